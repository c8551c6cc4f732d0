"""The migrations, one module each, as they ran: frozen history.

A released migration is never edited, and it calls no code that can change: its SQL is
written out literally (a text per engine where SQLite and PostgreSQL differ), and a data
backfill carries its own copy of the logic it needs, as it was when the migration was made.
Otherwise an edit to today's code would make a fresh database differ from an upgraded one.
A new table or column is a new migration (and a new module here), listed in
``store/schema.py``. These modules import nothing from upstack but ``store.db``;
tests/test_migrations_frozen.py holds them to it.
"""
