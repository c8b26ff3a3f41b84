"""One error hierarchy: each error carries the message a user sees and the exit code the CLI returns."""

from __future__ import annotations


class DraptoError(Exception):
    """Base of every error drapto reports to a user (never shown as a traceback)."""

    exit_code = 1

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InputError(DraptoError):
    """The input or the output path cannot be used: nothing was started."""

    exit_code = 2


class DependencyError(DraptoError):
    """A tool drapto needs is missing or lacks a capability."""

    exit_code = 2


class ProcessError(DraptoError):
    """An external command failed; `detail` holds its argv and the tail of its stderr."""


class ValidationError(DraptoError):
    """The muxed output does not match what the source promised."""


class SourceDamagedError(DraptoError):
    """The source decodes to clearly less than its container declares: nothing to fix in drapto."""


class SourceSkipped(DraptoError):
    """The source is left as it is on purpose (its video is already AV1): not a failure."""

    exit_code = 0


class OutputBusyError(DraptoError):
    """Another drapto run holds the output's lock: nothing was started."""

    exit_code = 2


class DiskFullError(DraptoError):
    """A filesystem drapto writes to is (or would be) full; the partial file that failed was removed."""


class SourceGoneError(DraptoError):
    """The source disappeared while drapto was reading it; what was finished is kept."""


class NotWritableError(DraptoError):
    """A folder drapto writes to became unwritable (read-only, permissions) during the run."""


# The exit codes of the drapto command (each error class above carries its own).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
