"""Use cases over a Workspace, one module per capability. Interfaces call these."""
