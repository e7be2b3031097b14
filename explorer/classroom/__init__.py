"""The class: a teacher's lesson followed and answered by students, kept in a real database (store) — SQLite on one
machine, shared by its replicas; PostgreSQL across machines — never in one process's memory. The rules (who may do
what, what a name or an answer may be, how long a class lives) are the store's, so every page and replica obeys
the same ones.

Imports from explorer: nothing.
"""
