"""Storage: the capture journal, the content-addressed blob store, the SQL store."""
