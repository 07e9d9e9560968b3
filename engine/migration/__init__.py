"""Moving running dossiers from one version of a procedure to a later one (issue 17, point 4).

`plan` decides, from the two versions' step metadata and each dossier's open items, what a move
would do (pure: no I/O); `apply` carries one dossier's move out as a command (`migrated` event);
`runs` keeps a planned migration and carries it out in batches. docs/migration.md explains why.
"""
