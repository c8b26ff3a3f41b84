"""The `drapto report` page: one self-contained HTML file (the header facts, the charts from `charts`
as inline SVG, the chunk table). No JavaScript, no network: the page's data also rides along as a JSON
data block for machines."""

from __future__ import annotations

import html
from collections.abc import Sequence

import msgspec

from drapto import __version__
from drapto.core.plantext import clock
from drapto.core.sizes import human_bytes
from drapto.shell.history import clock as elapsed
from drapto.shell.report.charts import charts
from drapto.shell.report.data import ChunkRow, ReportData

DATA_ID = "drapto-report-data"


# -- small formatters ----------------------------------------------------------------------------------


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    return f"{seconds:.1f} s" if seconds < 60 else elapsed(seconds)


def size_text(size: float | None) -> str:
    return "unknown" if size is None else human_bytes(size)


def _num(value: float | None, fmt: str = ".2f", unknown: str = "–") -> str:
    return unknown if value is None else format(value, fmt)


# -- charts ------------------------------------------------------------------------------------------------


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
                                          f"{data.in_band} of {len(data.chunks)} in the band"
                                          + capped_text(data.chunks)))  # fmt: skip
    else:
        rows.append(("CRF", _num(data.crf, "g", "unknown")))
    if data.whole_file:
        w = data.whole_file
        rows.append(("VMAF (whole file)", f"mean {w.mean:.2f}, harmonic {w.harmonic:.2f}, 1 % low {w.low_1pct:.2f}, "
                                          f"min {w.minimum:.2f} over {w.frames} frames"))  # fmt: skip
    rows.append(("Preset", _num(data.preset, "d", "unknown")))
    rows.append(
        ("Wall time", duration_text(data.wall_seconds) + (f", finished {e(data.finished)}" if data.finished else ""))
    )
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
             "shots", "tries (CRFs)", "size", "kbit/s", "encode time"]  # fmt: skip
    left = {"cut", "shots", "tries (CRFs)"}
    lines = ["<table class='chunks'><thead><tr>"]
    lines += [f"<th{' class=l' if h in left else ''}>{html.escape(h)}</th>" for h in heads]
    lines.append("</tr></thead><tbody>")
    for r in data.chunks:
        tries = f"{r.tries} ({', '.join(f'{c:g}' for c in r.tried_crfs)})"
        if r.probes:
            tries += f" + {r.probes} probe{'s' if r.probes != 1 else ''}"
        cells = [
            str(r.index), clock(r.start_time), clock(r.end_time), str(r.frames), r.cut or "–", f"{r.crf:g}",
            _num(r.predicted_vmaf), f"{r.vmaf:.2f}" + (" capped" if r.capped else "") + (" (all frames)" if r.confirmed else ""),
            *([_num(r.file_vmaf)] if whole else []), _shots_text(r), tries,
            size_text(r.bytes), f"{r.kbps:.0f}", duration_text(r.encode_seconds),
        ]  # fmt: skip
        row_class = "" if r.in_band else " class='out'"
        tds = "".join(
            f"<td{' class=l' if h in left else ''}>{html.escape(c)}</td>" for h, c in zip(heads, cells, strict=True)
        )
        lines.append(f"<tr{row_class}>{tds}</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def _shots_text(row: ChunkRow) -> str:
    """Each shot's start and VMAF ("0:00:12.000 91.80 · 0:00:16.040 95.02"); "–" for a chunk of one shot."""
    if not row.shots:
        return "–"
    per_frame = (row.end_time - row.start_time) / max(row.frames, 1)
    return " · ".join(f"{clock(row.start_time + (s.start - row.start) * per_frame)} {s.vmaf:.2f}" for s in row.shots)


def capped_text(chunks: Sequence[ChunkRow]) -> str:
    """ "; 2 capped by size (the source's own bytes)", or nothing."""
    capped = sum(r.capped for r in chunks)
    return f"; {capped} capped by size (the source's own bytes for their frames)" if capped else ""


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
