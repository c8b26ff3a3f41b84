"""`drapto history`: every finished encode, with totals."""

from __future__ import annotations

import sys

import msgspec

from drapto.errors import EXIT_OK, InputError
from drapto.shell import history


def history_command(*, json: bool = False) -> int:
    """List every finished encode (history.jsonl in the user data folder, or $DRAPTO_HISTORY): date, source,
    sizes, reduction, time, speed, mode and CRF/VMAF, then the totals.

    Parameters
    ----------
    json
        Print the records as JSON lines, and nothing else.
    """
    path = history.history_path()
    try:
        records = history.read(path)
    except OSError as exc:
        raise InputError(f"Cannot read the encode history {path}: {exc}") from exc
    if json:
        for record in records:
            print(msgspec.json.encode(record).decode())
    elif not records:
        print(f"No finished encodes yet (the history is kept in {path}).")
    elif sys.stdout.isatty():
        from rich.console import Console

        Console().print(history.render_rich(records))
    else:
        print(history.render_plain(records), end="")
    return EXIT_OK
