"""One module per command family; each command is a thin wrapper that returns data."""
