"""`python -m drapto` is the `drapto` command."""

from drapto.shell.cli import program

program()
