"""Backups that can be proven: copy the database and the scanned papers, restore them, and tell from the
signed checkpoints exactly what a restored database holds and what it lost.

- `sqlite`: an online copy through SQLite's backup API while the server writes (one read snapshot);
- `postgres`: a base backup with `pg_basebackup`, and a data directory prepared to replay the WAL archive
  up to an instant (`recovery_target_time`);
- `blobs`: the content-addressed folder of papers, copied after the database (a file is never changed
  once written, so a copy taken later holds every file the database names);
- `copies`: each signed checkpoint also written as a file outside the database, the evidence a restored
  database is compared with;
- `coverage`: what the restored database holds: the last checkpoint it has, the events no checkpoint
  covers yet, and, against the copies, the signed events it no longer has (dossier by dossier).
"""
