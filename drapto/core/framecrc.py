"""Reading ffmpeg's `framecrc` listing: one line per packet of a stream copy, which is how drapto reads a
file's packets without decoding them (validation, the scene scan's packet sizes). Pure."""

from __future__ import annotations

import msgspec


class Packet(msgspec.Struct, frozen=True):
    pts: int | None  # in the listing's time base; None for a packet with no timestamp
    duration: int
    size: int


class Listing(msgspec.Struct, frozen=True):
    time_base: tuple[int, int]  # numerator, denominator
    packets: tuple[Packet, ...]

    def seconds(self, ticks: int) -> float:
        return ticks * self.time_base[0] / self.time_base[1]


NO_PTS = -(2**63)  # what framecrc prints for a packet without a timestamp (AVI's packets carry none)


def _int(text: str) -> int | None:
    try:
        value = int(text)
    except ValueError:
        return None
    return None if value == NO_PTS else value


def parse_framecrc(listing: str, stream: int = 0) -> Listing:
    """`#tb N: num/den`, then `N, dts, pts, duration, size, crc` per packet of stream N."""
    time_base = (1, 1000)
    packets = []
    for line in listing.splitlines():
        if line.startswith(f"#tb {stream}:"):
            numerator, denominator = line.split(":", 1)[1].strip().split("/")
            time_base = (int(numerator), int(denominator))
        elif line.startswith(f"{stream},"):
            fields = line.split(",")
            if len(fields) >= 5:
                packets.append(Packet(pts=_int(fields[2]), duration=_int(fields[3]) or 0, size=_int(fields[4]) or 0))
    return Listing(time_base=time_base, packets=tuple(packets))


class PacketSpan(msgspec.Struct, frozen=True, kw_only=True):
    """A video stream's packets as a stream copy reads them: how many, and the earliest and latest
    presentation time (seconds, on the reading command's clock; `last - first` is the last frame's time
    after the first's)."""

    count: int
    first: float | None
    last: float | None


def first_time(listing: Listing) -> float | None:
    """The earliest timestamp of the listing's stream, in seconds; None without one."""
    return min((listing.seconds(p.pts) for p in listing.packets if p.pts is not None), default=None)


def packet_span(listing: Listing) -> PacketSpan:
    times = [listing.seconds(p.pts) for p in listing.packets if p.pts is not None]
    return PacketSpan(count=len(listing.packets), first=min(times, default=None), last=max(times, default=None))
