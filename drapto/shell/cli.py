"""The `drapto` command: assembles the subcommands (one module each under `commands/`), and turns every
outcome into an exit code: a DraptoError is one line on stderr, Ctrl-C stops every child and exits 130."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from typing import Any

import cyclopts

from drapto import __version__
from drapto.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, DraptoError
from drapto.graph import runlog
from drapto.graph.runner import terminate_all
from drapto.shell import runlogs
from drapto.shell.commands.analyze import analyze
from drapto.shell.commands.config import config_command
from drapto.shell.commands.encode import encode
from drapto.shell.commands.history import history_command
from drapto.shell.commands.plan import plan
from drapto.shell.commands.report import report_command
from drapto.shell.commands.watch import watch
from drapto.shell.runlogs import log_failure

app = cyclopts.App(
    name="drapto",
    help="AV1 batch encoder for film and TV libraries.",
    version=__version__,
    suppress_keyboard_interrupt=False,  # main() says how to resume; cyclopts would exit silently
)
app.command(encode)
app.command(watch)
app.command(plan)
app.command(analyze)
app.command(config_command, name="config")
app.command(history_command, name="history")
app.command(report_command, name="report")


def _interrupt(signum: int, frame: Any) -> None:
    """The first Ctrl-C (or SIGTERM) unwinds: children are stopped, the work stays resumable. A second
    one does not wait for that: children are killed and drapto exits at once."""
    signal.signal(signal.SIGINT, _stop_now)
    signal.signal(signal.SIGTERM, _stop_now)
    raise KeyboardInterrupt


def _stop_now(signum: int, frame: Any) -> None:
    terminate_all(signal.SIGKILL)
    os.write(2, b"drapto: stopped at once; run the same command again to resume\n")
    os._exit(EXIT_INTERRUPTED)


def main(argv: list[str] | None = None) -> int:
    """Entry point: every DraptoError is one line on stderr and an exit code, never a traceback."""
    handlers = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    runlogs.run_argv[:] = argv if argv is not None else sys.argv[1:]
    code = EXIT_FAILED
    try:
        code = _main(list(runlogs.run_argv))
    finally:
        runlog.finish(code)  # the run log's last line
        if code != EXIT_INTERRUPTED:  # once interrupted, a late second Ctrl-C still exits at once
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
    return code


def program() -> None:
    """The `drapto` program: main(), then exit. An interrupted run leaves at once, skipping interpreter
    shutdown (during which Python restores the default signal handlers, so a second Ctrl-C arriving
    then would kill drapto by signal instead of exiting 130)."""
    code = main()
    if code == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _main(argv: list[str]) -> int:
    try:
        result = app(argv, exit_on_error=False, print_error=False, result_action="return_value")
    except cyclopts.CycloptsError as error:  # a usage error: one line, like every other error
        print(f"drapto: {' '.join(str(error).split())} (drapto --help shows the usage)", file=sys.stderr)
        return EXIT_USAGE
    except DraptoError as error:
        hint = log_failure(None, error)
        print(f"drapto: {error.message}" + (f" ({hint})" if hint else ""), file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        runlog.note("interrupted")
        print("drapto: interrupted; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: its traceback goes to the run log too
        runlog.failure(None, f"{type(exc).__name__}: {exc}", traceback.format_exc())
        raise
    return result if isinstance(result, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
