"""The `drapto report` page: one self-contained HTML file, its charts inline SVG drawn with matplotlib
(Agg-free: figures are made without pyplot and saved straight to SVG, so no GUI backend is ever touched).
No JavaScript, no network: the page's data also rides along as a JSON data block for machines.

matplotlib is imported inside the functions that draw, so importing this module (or `drapto encode`)
does not pay for it.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import msgspec

from drapto import __version__
from drapto.shell.history import clock as elapsed
from drapto.core.plantext import clock
from drapto.shell.report import human_bytes
from drapto.shell.reportdata import ChunkRow, ReportData, binned, frame_times

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DATA_ID = "drapto-report-data"
# Okabe–Ito colours: told apart by colour-blind readers, and by shade in grey print
BLUE, ORANGE, VERMILLION, GREEN, SKY, GREY = "#0072B2", "#E69F00", "#D55E00", "#009E73", "#56B4E9", "#555555"
MAX_CURVE_POINTS = 2000
STYLE = {
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


# -- small formatters ----------------------------------------------------------------------------------


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    return f"{seconds:.1f} s" if seconds < 60 else elapsed(seconds)


def size_text(size: float | None) -> str:
    return "unknown" if size is None else human_bytes(size)


def _num(value: float | None, fmt: str = ".2f", unknown: str = "–") -> str:
    return unknown if value is None else format(value, fmt)


def _tick_clock(seconds: float, _pos: Any = None) -> str:
    seconds = max(seconds, 0.0)
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{seconds:g}s"


# -- charts ------------------------------------------------------------------------------------------------


@contextmanager
def _style(salt: str) -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context({**STYLE, "svg.hashsalt": f"drapto-{salt}"}):
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


MANY_CHUNKS = 60  # above this, boundaries are ticks along the top of the VMAF panel, and bars lose their edges


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
    predicted = [(r.start_time + (r.end_time - r.start_time) / 2, r.predicted_vmaf) for r in rows if r.predicted_vmaf is not None]
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


# -- the page ------------------------------------------------------------------------------------------------

CSS = """
body { font: 15px/1.45 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #111; background: #fff;
       max-width: 1100px; margin: 2em auto; padding: 0 1.2em; }
h1 { font-size: 1.5em; margin: 0 0 .2em; word-break: break-all; }
h2 { font-size: 1.15em; margin: 1.8em 0 .5em; border-bottom: 1px solid #bbb; padding-bottom: .2em; }
.sub { color: #444; margin: 0 0 1.2em; word-break: break-all; }
table { border-collapse: collapse; }
table.facts th { text-align: left; font-weight: 600; padding: .2em 1.4em .2em 0; vertical-align: top; white-space: nowrap; }
table.facts td { padding: .2em 0; }
table.chunks { width: 100%; font-size: .9em; font-variant-numeric: tabular-nums; }
table.chunks th, table.chunks td { padding: .25em .4em; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
table.chunks th { border-bottom: 2px solid #444; background: #f3f3f3; }
table.chunks td.l, table.chunks th.l { text-align: left; }
tr.out td { color: #a33d00; font-weight: 600; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #444; font-size: .9em; }
.scroll { overflow-x: auto; }
ul.notes, p.hint { color: #444; }
p.warning { color: #a00; font-size: 1.15em; }
footer { margin-top: 2em; color: #666; font-size: .85em; }
@media print { body { margin: 0; max-width: none; font-size: 11pt; } h2 { break-after: avoid; }
               figure, tr { break-inside: avoid; } }
"""


def _facts(data: ReportData) -> list[tuple[str, str]]:
    e = html.escape
    rows = [("Source", e(data.source or "unknown") + ("" if data.source_exists or not data.source else " (not found)")),
            ("Output", e(data.output))]  # fmt: skip
    size = f"{size_text(data.source_bytes)} → {size_text(data.output_bytes)}"
    if data.reduction is not None:
        size += f" ({abs(data.reduction):.1f} % {'smaller' if data.reduction >= 0 else 'LARGER'})"
    rows.append(("Size", size))
    rows.append(("Mode", data.mode))
    if data.mode == "chunked":
        target = _num(data.target_vmaf, "g", "unknown")
        if data.band:
            target += f" (accepted {data.band[0]:g}–{data.band[1]:g})"
        rows.append(("Target VMAF", target))
        if data.scoring:
            rows.append(("VMAF scored", e(data.scoring)))
        if data.crf_range:
            rows.append(("CRF", f"{data.crf_range[0]:g}–{data.crf_range[1]:g} over {len(data.chunks)} chunks"))
        if data.chunk_vmaf:
            low, mean, high = data.chunk_vmaf
            rows.append(("VMAF (chunks)", f"min {low:.2f}, mean {mean:.2f}, max {high:.2f}; "
                                          f"{data.in_band} of {len(data.chunks)} in the band"))  # fmt: skip
    else:
        rows.append(("CRF", _num(data.crf, "g", "unknown")))
    if data.whole_file:
        w = data.whole_file
        rows.append(("VMAF (whole file)", f"mean {w.mean:.2f}, harmonic {w.harmonic:.2f}, 1 % low {w.low_1pct:.2f}, "
                                          f"min {w.minimum:.2f} over {w.frames} frames"))  # fmt: skip
    rows.append(("Preset", _num(data.preset, "d", "unknown")))
    rows.append(("Wall time", duration_text(data.wall_seconds) + (f", finished {e(data.finished)}" if data.finished else "")))
    rows.append(("Speed", f"{data.speed:.2f} × realtime" if data.speed is not None else "unknown"))
    if data.encode_seconds is not None:
        rows.append(("Chunk encode time", f"{duration_text(data.encode_seconds)} added up over the chunks "
                                          f"({data.search_encodes} encodes, probes included)"))  # fmt: skip
    picture = f"{data.width}×{data.height}"
    if data.frame_rate:
        picture += f", {e(data.frame_rate)} fps"
    if data.duration is not None:
        picture += f", {clock(data.duration)}"
    if data.frames is not None:
        picture += f", {data.frames} frames"
    rows.append(("Picture", picture))
    dynamic = data.dynamic + (f", Dolby Vision profile {e(data.dolby_vision)}" if data.dolby_vision else "")
    rows.append(("HDR / Dolby Vision", dynamic))
    crop = e(data.crop) if data.crop else ("unknown" if data.crop_from.startswith("unknown") else "none")
    if data.crop and data.source_width and data.source_height:
        crop += f" of {data.source_width}×{data.source_height}"
    rows.append(("Crop", f"{crop} ({e(data.crop_from)})"))
    return rows


def _chunk_table(data: ReportData) -> str:
    whole = data.whole_file is not None
    heads = ["#", "start", "end", "frames", "cut", "CRF", "predicted", "VMAF", *(["whole-file"] if whole else []),
             "tries (CRFs)", "size", "kbit/s", "encode time"]  # fmt: skip
    left = {"cut", "tries (CRFs)"}
    lines = ["<table class='chunks'><thead><tr>"]
    lines += [f"<th{' class=l' if h in left else ''}>{html.escape(h)}</th>" for h in heads]
    lines.append("</tr></thead><tbody>")
    for r in data.chunks:
        tries = f"{r.tries} ({', '.join(f'{c:g}' for c in r.tried_crfs)})"
        if r.probes:
            tries += f" + {r.probes} probe{'s' if r.probes != 1 else ''}"
        cells = [
            str(r.index), clock(r.start_time), clock(r.end_time), str(r.frames), r.cut or "–", f"{r.crf:g}",
            _num(r.predicted_vmaf), f"{r.vmaf:.2f}", *([_num(r.file_vmaf)] if whole else []), tries,
            size_text(r.bytes), f"{r.kbps:.0f}", duration_text(r.encode_seconds),
        ]  # fmt: skip
        row_class = "" if r.in_band else " class='out'"
        tds = "".join(f"<td{' class=l' if h in left else ''}>{html.escape(c)}</td>" for h, c in zip(heads, cells, strict=True))
        lines.append(f"<tr{row_class}>{tds}</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def data_block(data: ReportData) -> str:
    """The report's data as JSON inside the page (a data block, not a script: browsers do not run it)."""
    text = msgspec.json.encode(data).decode().replace("</", "<\\/")
    return f'<script type="application/json" id="{DATA_ID}">{text}</script>'


def render_html(data: ReportData) -> str:
    """The whole page. Pure apart from matplotlib's drawing."""
    e = html.escape
    name = data.output.rsplit("/", 1)[-1]
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>drapto report: {e(name)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{e(name)}</h1>",
        f"<p class='sub'>{e(data.source or 'unknown source')} → {e(data.output)}</p>",
        "<table class='facts'>",
        *(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in _facts(data)),
        "</table>",
        *(f"<p class='warning'><strong>Warning:</strong> {e(w)}</p>" for w in data.warnings),
    ]
    for chart_id, caption, svg in charts(data):
        parts.append(f"<figure id='{chart_id}'>{svg}")
        if caption:
            parts.append(f"<figcaption>{e(caption)}</figcaption>")
        parts.append("</figure>")
    if data.chunks:
        parts += ["<h2>Chunks</h2>", f"<div class='scroll'>{_chunk_table(data)}</div>",
                  "<p class='hint'>VMAF and CRF are the kept try's; <i>predicted</i> is what the search expected it to "
                  "score; the size and bitrate are the kept encode's video; the encode time adds up all the chunk's "
                  "probes and tries. Rows outside the band are marked.</p>"]  # fmt: skip
    elif not data.whole_file:
        parts.append("<p>No per-chunk data: this is a standard-mode encode, one CRF for the whole video. "
                     "<code>drapto report --vmaf</code> scores every frame against the source.</p>")  # fmt: skip
    if data.notes:
        parts += ["<h2>Notes</h2>", "<ul class='notes'>", *(f"<li>{e(n)}</li>" for n in data.notes), "</ul>"]
    parts += [
        f"<footer>Made by drapto {e(__version__)} on {e(data.generated)}. VMAF is measured as the chunk search "
        "measures it (ab-av1's convention: the 1080p or 4k model, both sides upscaled to the model's size when "
        "smaller).</footer>",
        data_block(data),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
