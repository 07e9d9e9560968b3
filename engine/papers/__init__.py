"""The papers of a dossier: what a procedure requires, the files stored for it, the official slips.

A land dossier *is* its papers (DESIGN.md, second wave). The required-paper lists live in the
procedure file (`paper.<code>` process properties, read by `requirements`); the files are kept in a
content-addressed blob store (`blobs`) and named in the dossier's hash chain by `document_added`
events, so `verify` proves every stored file is the one acknowledged.
"""
