"""CLI subcommands. Every module here defines `register(subparsers)`; `cli.py` discovers them.

A command's handler takes the parsed `argparse.Namespace` and returns an exit code; it raises
`LayersmithError`s for anything the user must fix (the CLI turns them into one line + exit code).
"""
