"""``python -m large_toolkit`` runs the CLI."""

from large_toolkit.cli.main import main

main()
