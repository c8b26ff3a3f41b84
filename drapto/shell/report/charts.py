"""The `drapto report` page's charts: the timeline of every chunk, the per-frame curve and the VMAF
histogram, drawn with matplotlib straight to inline SVG (no pyplot, so no GUI backend is ever touched).

matplotlib is imported inside the functions that draw, so importing this module (or `drapto encode`)
does not pay for it.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from drapto import __version__
from drapto.shell.report.data import ChunkRow, ReportData, binned, frame_times

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Okabe–Ito colours: told apart by colour-blind readers, and by shade in grey print
# Okabe–Ito colours: told apart by colour-blind readers, and by shade in grey print
BLUE, ORANGE, VERMILLION, GREEN, SKY, GREY = "#0072B2", "#E69F00", "#D55E00", "#009E73", "#56B4E9", "#555555"


MAX_CURVE_POINTS = 2000
MANY_CHUNKS = 60  # above this, boundaries are ticks along the top of the VMAF panel, and bars lose their edges


STYLE: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.edgecolor": "#333333",
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "svg.fonttype": "none",  # text stays text: small, sharp in print, searchable
    "svg.image_inline": True,
}


def _tick_clock(seconds: float, _pos: Any = None) -> str:
    seconds = max(seconds, 0.0)
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{seconds:g}s"


@contextmanager
def _style(salt: str) -> Iterator[None]:
    import matplotlib

    settings: Any = {**STYLE, "svg.hashsalt": f"drapto-{salt}"}  # matplotlib types its keys as a Literal
    with matplotlib.rc_context(settings):
        yield


def svg_of(figure: Figure) -> str:
    """The figure as an inline <svg> element (no XML declaration, no DOCTYPE, no date)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": f"drapto {__version__} (matplotlib)"})
    text = buffer.getvalue()
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)  # RDF boilerplate
    return text[text.index("<svg") :].strip()


def _end_time(data: ReportData) -> float:
    if data.chunks:
        return data.chunks[-1].end_time
    times = frame_times(data)
    return times[-1] if times else (data.duration or 1.0)


def _mark_cuts(axes: Any, data: ReportData, *, top_only: bool = False) -> None:
    """The chunk boundaries: solid at a scene cut, dotted at a forced split (or one not recorded); as a
    row of short ticks along the top when `top_only` (a film's hundreds of chunks would hide the data)."""
    scenes = [r.start_time for r in data.chunks[1:] if r.cut == "scene"]
    others = [r.start_time for r in data.chunks[1:] if r.cut != "scene"]
    where = axes.get_xaxis_transform()  # x in data, y from the bottom (0) to the top (1) of the axes
    low, width = (0.93, 0.6) if top_only else (0.0, 0.9)
    if scenes:
        axes.vlines(scenes, low, 1, transform=where, colors="#333333", linewidth=width, zorder=5 if top_only else 1)
    if others:
        axes.vlines(others, low, 1, transform=where, colors="#888888", linewidth=width, linestyles=":",
                    zorder=5 if top_only else 1)  # fmt: skip


def _time_axis(axes: Any, end: float) -> None:
    """Ticks at round times (1 s … 1 h apart), about 6 to 12 of them, labelled 5s, 1:30 or 1:02:00."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    steps = (0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200)
    step = next((s for s in steps if end / s <= 12), steps[-1])
    axes.xaxis.set_major_locator(MultipleLocator(step))
    axes.xaxis.set_major_formatter(FuncFormatter(_tick_clock))
    axes.set_xlim(0, end)


def _vmaf_limits(data: ReportData, values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if data.band:
        low, high = min(low, data.band[0]), max(high, data.band[1])
    pad = max(0.5, (high - low) * 0.08)
    return max(0.0, low - pad), min(100.5, high + pad)


def _band(axes: Any, data: ReportData, label: bool = True) -> None:
    if data.band is None or data.target_vmaf is None:
        return
    low, high = data.band
    axes.axhspan(low, high, color=GREEN, alpha=0.14, linewidth=0, zorder=0,
                 label=f"band {low:g}–{high:g}" if label else None)  # fmt: skip
    axes.axhline(data.target_vmaf, color=GREEN, linewidth=1.2, linestyle="--", zorder=1,
                 label=f"target {data.target_vmaf:g}" if label else None)  # fmt: skip


def _frame_curve(axes: Any, data: ReportData, times: list[float], *, label: str, colour: str = GREY) -> None:
    """The per-frame scores, at most MAX_CURVE_POINTS points: each run's mean as the line, its minimum as
    a shaded envelope below, so dips stay visible on a long film."""
    scores = list(data.whole_file.scores) if data.whole_file else []
    if not scores:
        return
    runs = binned(scores, MAX_CURVE_POINTS)
    xs = [times[(first + end - 1) // 2] for first, end, _mean, _low in runs]
    means = [mean for _f, _e, mean, _low in runs]
    lows = [low for _f, _e, _mean, low in runs]
    if any(end - first > 1 for first, end, _m, _l in runs):
        axes.fill_between(xs, lows, means, color=colour, alpha=0.25, linewidth=0, label="per-frame minimum")
    axes.plot(xs, means, color=colour, linewidth=0.8, label=label, zorder=2)


def _bars(axes: Any, rows: Sequence[ChunkRow], values: list[float], colour: str) -> None:
    """One bar per chunk spanning its time range: outlined bars for a few chunks, one filled step outline
    for many (hairline gaps between hundreds of bars would grey the picture)."""
    if len(rows) > MANY_CHUNKS:
        axes.stairs(values, [rows[0].start_time, *(r.end_time for r in rows)], fill=True, color=colour, zorder=2)
    else:
        axes.bar([r.start_time for r in rows], values, width=[r.end_time - r.start_time for r in rows], align="edge",
                 color=colour, edgecolor="#222222", linewidth=0.6, zorder=2)  # fmt: skip


def timeline_figure(data: ReportData) -> Figure:
    """Three panels over the film's time: VMAF per chunk against the band (and the per-frame curve with
    --vmaf), CRF per chunk, bitrate per chunk; chunk boundaries marked."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    rows = data.chunks
    figure = Figure(figsize=(10, 7.2), layout="constrained")
    vmaf_ax, crf_ax, rate_ax = figure.subplots(3, 1, sharex=True, height_ratios=(1.3, 1, 1))
    starts = [r.start_time for r in rows]

    _band(vmaf_ax, data)
    values = [r.vmaf for r in rows]
    if data.whole_file:
        _frame_curve(vmaf_ax, data, frame_times(data), label="per frame (--vmaf)")
        values += [data.whole_file.minimum, max(data.whole_file.scores)]
    vmaf_ax.hlines([r.vmaf for r in rows], starts, [r.end_time for r in rows],
                   colors=[BLUE if r.in_band else VERMILLION for r in rows], linewidth=2.6, zorder=3)  # fmt: skip
    predicted = [
        (r.start_time + (r.end_time - r.start_time) / 2, r.predicted_vmaf) for r in rows if r.predicted_vmaf is not None
    ]
    if len(rows) > 300:
        predicted = []  # a film's worth of markers is noise
    if predicted:
        vmaf_ax.plot(*zip(*predicted, strict=True), linestyle="none", marker="o", markersize=4.5,
                     markerfacecolor="white", markeredgecolor=ORANGE, markeredgewidth=1.3, zorder=4)  # fmt: skip
        values += [p for _t, p in predicted]
    vmaf_ax.set_ylim(*_vmaf_limits(data, values))
    vmaf_ax.set_ylabel("VMAF")
    vmaf_ax.set_title("VMAF per chunk (measured)", loc="left")
    handles, labels = vmaf_ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color=BLUE, linewidth=2.6))
    labels.append("measured, in band")
    if any(not r.in_band for r in rows):
        handles.append(Line2D([], [], color=VERMILLION, linewidth=2.6))
        labels.append("measured, outside")
    if predicted:
        handles.append(Line2D([], [], linestyle="none", marker="o", markerfacecolor="white", markeredgecolor=ORANGE))
        labels.append("predicted")
    cuts = {r.cut == "scene" for r in rows[1:]}
    if True in cuts:
        handles.append(Line2D([], [], color="#333333", linewidth=0.9))
        labels.append("scene cut")
    if False in cuts:
        handles.append(Line2D([], [], color="#888888", linewidth=0.9, linestyle=":"))
        labels.append("forced split")
    vmaf_ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0))

    _bars(crf_ax, rows, [r.crf for r in rows], SKY)
    crf_ax.set_ylabel("CRF")
    crf_ax.set_title("CRF per chunk", loc="left")
    crf_ax.set_ylim(0, (max([r.crf for r in rows], default=0) or 1) * 1.18)
    if len(rows) <= 40:
        for r in rows:
            crf_ax.annotate(f"{r.crf:g}", (r.start_time + (r.end_time - r.start_time) / 2, r.crf), xytext=(0, 2),
                            textcoords="offset points", ha="center", va="bottom", fontsize=8)  # fmt: skip

    _bars(rate_ax, rows, [r.kbps for r in rows], ORANGE)
    rate_ax.set_ylabel("kbit/s")
    rate_ax.set_title("Video bitrate per chunk", loc="left")
    rate_ax.set_ylim(0, (max([r.kbps for r in rows], default=0) or 1) * 1.12)
    rate_ax.set_xlabel("time")
    _time_axis(rate_ax, _end_time(data))

    many = len(rows) > MANY_CHUNKS
    for axes in (vmaf_ax,) if many else (vmaf_ax, crf_ax, rate_ax):
        _mark_cuts(axes, data, top_only=many)
    for axes in (vmaf_ax, crf_ax, rate_ax):
        axes.grid(axis="x", visible=False)
    return figure


def frames_figure(data: ReportData) -> Figure:
    """The whole file's per-frame VMAF over time, with its mean and 1 % low."""
    from matplotlib.figure import Figure

    score = data.whole_file
    assert score is not None
    figure = Figure(figsize=(10, 3.4), layout="constrained")
    axes = figure.subplots()
    times = frame_times(data)
    _band(axes, data)
    _frame_curve(axes, data, times, label="per frame", colour=BLUE)
    axes.axhline(score.mean, color=GREY, linewidth=1.0, linestyle="-.", label=f"mean {score.mean:.2f}")
    axes.axhline(score.low_1pct, color=VERMILLION, linewidth=1.2, linestyle="--", label=f"1 % low {score.low_1pct:.2f}")
    _mark_cuts(axes, data, top_only=len(data.chunks) > MANY_CHUNKS)
    axes.set_ylim(*_vmaf_limits(data, [score.minimum, max(score.scores)]))
    _time_axis(axes, max(_end_time(data), times[-1] if times else 0))
    axes.grid(axis="x", visible=False)
    axes.set_xlabel("time")
    axes.set_ylabel("VMAF")
    axes.set_title(f"VMAF per frame, whole file ({score.frames} frames)", loc="left")
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


def _bin_edges(values: list[float]) -> list[float]:
    low, high = min(values), max(values)
    for width in (0.25, 0.5, 1.0, 2.0, 5.0):
        if (high - low) / width <= 40:
            break
    first, last = math.floor(low / width) * width, math.ceil(high / width) * width
    if last <= first:
        last = first + width
    count = round((last - first) / width)
    return [first + i * width for i in range(count + 1)]


def histogram_figure(data: ReportData) -> Figure:
    """How the chunks' measured VMAF falls against the band (per frame, for a file without chunks)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    per_chunk = bool(data.chunks)
    values = [r.vmaf for r in data.chunks] if per_chunk else list(data.whole_file.scores if data.whole_file else [])
    figure = Figure(figsize=(6.4, 3.2), layout="constrained")
    axes = figure.subplots()
    if data.band and data.target_vmaf is not None:
        axes.axvspan(*data.band, color=GREEN, alpha=0.14, linewidth=0, label=f"band {data.band[0]:g}–{data.band[1]:g}")
        axes.axvline(data.target_vmaf, color=GREEN, linestyle="--", linewidth=1.2, label=f"target {data.target_vmaf:g}")
    axes.hist(values, bins=_bin_edges(values), color=BLUE, edgecolor="white", linewidth=0.6, zorder=2,
              label="chunks" if per_chunk else "frames")  # fmt: skip
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, axes.get_ylim()[1] * 1.1)
    axes.set_xlabel("VMAF")
    axes.set_ylabel("chunks" if per_chunk else "frames")
    axes.set_title("VMAF per chunk (measured)" if per_chunk else "VMAF per frame", loc="left")
    axes.grid(axis="x", visible=False)
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


def figures(data: ReportData) -> list[tuple[str, str, Figure]]:
    """(id, caption, figure) for each chart the data supports, in page order."""
    out = []
    with _style("figures"):
        if data.chunks:
            out.append(("timeline", "The film's timeline: each bar spans one chunk.", timeline_figure(data)))
        if data.whole_file:
            out.append(("frames", "Every frame scored against the source (--vmaf).", frames_figure(data)))
        if data.chunks or data.whole_file:
            out.append(("histogram", "", histogram_figure(data)))
    return out


def charts(data: ReportData) -> list[tuple[str, str, str]]:
    """(id, caption, inline SVG) for each chart."""
    out = []
    for name, caption, figure in figures(data):
        with _style(name):  # each chart its own id salt: several inline SVGs share one page's id space
            out.append((name, caption, svg_of(figure)))
    return out
