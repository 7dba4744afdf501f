"""``python -m logsieve`` runs the command line."""

from logsieve.cli import main

main()
