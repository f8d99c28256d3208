"""One module per sub-command, each exposing register(subparsers)."""
