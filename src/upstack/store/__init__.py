"""Storage: the capture journal, the content-addressed blob store, the SQL store."""

# The schema version this upstack writes (the last migration in store/schema.py).
# Kept here, import-free, so that capture can check a workspace without loading
# the SQL stack: see ``SCHEMA_MARK``.
SCHEMA_VERSION = 24

# A file in the workspace that records the newest schema version seen there.
SCHEMA_MARK = "schema-version"
