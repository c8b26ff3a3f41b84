"""`python -m drapto` is the `drapto` command."""

from drapto.cli import program

program()
