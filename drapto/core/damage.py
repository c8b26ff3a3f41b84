"""A damaged source: which of ffmpeg's complaints are about the source, where in the film they are, and the
one warning that says so. Pure.

A source with damaged bytes still decodes: the Matroska demuxer skips a cluster it cannot parse (measured:
64 KB of random bytes over the middle of a 6 s MKV lost the packets from 2.667 s to 4.0 s and printed
`Element at 0x… exceeds containing master element`), and the decoder conceals a broken slice (`cbp too
large`, `error while decoding MB`, `concealing … errors in P frame`). drapto encodes what decodes, as any
player would show it, and says where the damage is.

Finding it costs nothing on a clean source: the passes that decode the whole source anyway (the standard
video encode, the chunked scene scan) run at `-loglevel error`, and any line they print about the input is
damage (`is_source_error`). Their stderr cannot say *where*: ffmpeg's demuxer and decoder threads run
seconds ahead of the `-progress` reports (measured: on that 6 s file every error arrived before the first
report). So a damaged source gets one more decode (`commands.damage_locate_argv`), with `-debug_ts`: the
demuxer's and the decoder's threads log each packet's and frame's time in the same stream as their errors,
so each error sits between two known times (`DamageLocator`).
"""

from __future__ import annotations

import re

import msgspec

# Contexts of the output side of an ffmpeg command: their complaints are about drapto's encode, not the source.
# (SVT-AV1 prints its own `Svt[error]:` lines; filters are `Parsed_NAME_N`, `fc#N`, `AVFilterGraph`.)
_OUTPUT_SIDE = re.compile(
    r"^(Svt\[|\[(out#|vost#|aost#|sost#|vf#|af#|fc#|enc:|mux|libsvtav1|libopus|matroska @|null @|framecrc @"
    r"|Parsed_|AVFilterGraph|swscaler|graph))"
)
_CONTEXT = re.compile(r"^(\[[^\]]*\]\s*)+")
_LEVEL = re.compile(r"\[(?P<level>panic|fatal|error|warning|info|verbose|debug|trace)\] ")
_DEMUXED = re.compile(r"demuxer\+ffmpeg -> .*?pkt_dts_time:(?P<time>-?[\d.]+)")
_DECODED = re.compile(r"decoder -> .*?pts_time:(?P<time>-?[\d.]+)")


def is_source_error(line: str) -> bool:
    """Whether a line of an ffmpeg command's error-level stderr is a complaint about its input."""
    line = line.strip()
    return bool(line) and not _OUTPUT_SIDE.match(line)


class Damage(msgspec.Struct, frozen=True, kw_only=True):
    errors: int  # the error lines about the source
    start: float | None = None  # the first damaged time, seconds (None: not placed)
    end: float | None = None  # the last
    first: str = ""  # the first error, without ffmpeg's context prefix


class DamageLocator:
    """Reads the locating decode's stderr line by line (`-loglevel level+info -debug_ts`): the demuxer's
    packets and the decoder's frames give the times, and each error is placed between the last time its
    thread logged and the next one (a demuxer error spans the packets it lost)."""

    def __init__(self) -> None:
        self.errors = 0
        self.first = ""
        self.start: float | None = None
        self.end: float | None = None
        self._demuxed: float | None = None
        self._decoded: float | None = None
        self._open_demux = False  # a demuxer error waits for the next packet's time
        self._open_decode = False  # a decoder error waits for the next frame's time

    def _span(self, *times: float | None) -> None:
        for time in times:
            if time is None:
                continue
            self.start = time if self.start is None else min(self.start, time)
            self.end = time if self.end is None else max(self.end, time)

    def feed(self, line: str) -> None:
        if match := _DEMUXED.search(line):
            self._demuxed = float(match["time"])
            if self._open_demux:
                self._span(self._demuxed)
                self._open_demux = False
            return
        if match := _DECODED.search(line):
            self._decoded = float(match["time"])
            if self._open_decode:
                self._span(self._decoded)
                self._open_decode = False
            return
        level = _LEVEL.search(line)
        if level is None or level["level"] not in ("panic", "fatal", "error") or _OUTPUT_SIDE.match(line):
            return
        self.errors += 1
        if not self.first:
            self.first = _CONTEXT.sub("", line).replace(level[0], "").strip()
        if line.startswith("[in#"):  # the demuxer: between its last packet and its next
            self._span(self._demuxed)
            self._open_demux = True
        else:  # a decoder: the frame it is about to output
            self._span(self._decoded)
            self._open_decode = True

    def result(self) -> Damage:
        return Damage(errors=self.errors, start=self.start, end=self.end, first=self.first)


def _when(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{rest:04.1f}"


def damage_message(source: str, damage: Damage) -> str:
    """The one warning for a damaged source: that it is damaged, where, and what the output holds there."""
    count = f"{damage.errors} error{'s' if damage.errors != 1 else ''}"
    if damage.start is None or damage.end is None:
        where = (
            f"ffmpeg reported {count} reading it (first: {damage.first})"
            if damage.first
            else "ffmpeg reported errors reading it"
        )
    elif damage.end - damage.start < 0.05:
        where = f"decode errors at {_when(damage.start)} ({count})"
    else:
        where = f"decode errors at {_when(damage.start)}–{_when(damage.end)} ({count})"
    return f"The source {source} is damaged: {where}; the output conceals them as the source's decoder did"
