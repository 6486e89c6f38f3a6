"""The `risk` command line: one module per command."""
