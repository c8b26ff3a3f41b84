"""The text `drapto plan` prints: the plan's header, the crop decision, the chunk table and every command,
shell-quoted, in the order `drapto encode` runs them. Pure."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from drapto.core.crop import CropAnalysis, crop_summary
from drapto.core.picture import fields_text, rotation_text
from drapto.core.plan import EncodePlan
from drapto.core.tries import probe_argv, probe_name, try_argv, try_name
from drapto.core.units import ChunkResult, ChunkUnit
from drapto.core.vmaf import describe_scoring, small_picture_note, triple_stride


def clock(seconds: float) -> str:
    """1:02:03.250, to the millisecond (rounded first, so 59.9996 s is 0:01:00.000, not 0:00:60.000)."""
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def chunk_table(units: tuple[ChunkUnit, ...], results: Mapping[int, ChunkResult]) -> list[str]:
    """One row per chunk; CRF and VMAF where a finished result exists, else the CRF the search starts at."""
    rows = ["#  chunk  start        end          frames  cut    score   CRF     VMAF"]
    for unit in units:
        chunk = unit.chunk
        result = results.get(chunk.index)
        crf = f"{result.crf:g}" if result else f"{unit.start_crf:g}*"
        vmaf = f"{result.vmaf:.2f}" if result else "-"
        rows.append(
            f"#  {chunk.index:<6} {clock(chunk.start_time):<12} {clock(chunk.end_time):<12} {chunk.frames:<7} "
            f"{chunk.cut:<6} {chunk.score:<7.1f} {crf:<7} {vmaf}"
        )
    rows.append("#  (* the CRF the search starts at; the chunk is not measured yet)")
    return rows


def render_plan(plan: EncodePlan, crop: CropAnalysis, target: str, results: Mapping[int, ChunkResult]) -> str:
    lines = []
    dv = f", Dolby Vision {plan.dolby_vision}" if plan.dolby_vision else ""
    if plan.mode == "chunked":
        quality = f"chunked, target VMAF {plan.target_vmaf:g}"
    else:
        quality = f"CRF {plan.crf}"
    lines.append(
        f"# {plan.source} -> {target} ({plan.resolution}, {plan.dynamic}{dv}, {quality}, preset {plan.preset})"
    )
    decision = crop.decision
    lines.append(f"# crop: {crop_summary(decision.crop, decision.reason, decision.samples)}")
    lines += [f"#   candidate {c.crop} x {c.count}" for c in decision.candidates]
    turned = rotation_text(plan.rotation)
    if turned:
        lines.append(f"# rotation: {turned} (ffmpeg's autorotate), encoded {plan.expect.width}x{plan.expect.height}")
    fields = fields_text(plan.fields)
    if fields:
        lines.append(f"# fields: {fields}")
    lines += [f"# WARNING: {notice}" for notice in plan.notices]
    if plan.chunks:
        first = plan.chunks[0]
        search, scoring = first.search, first.scoring
        scale = f" at {scoring.scale[0]}x{scoring.scale[1]}" if scoring.scale else ""
        subset = (
            "every frame"
            if scoring.every == 1
            else f"the middles of frame triples every {triple_stride(scoring.every)} frames"
        )
        lines.append(
            f"# chunks: {len(plan.chunks)}, {plan.workers} at a time; each kept within VMAF "
            f"{search.target - search.below:g}-{search.target + search.above:g} ({scoring.model}{scale}, "
            f"{scoring.pool} of {subset}), CRF {search.crf_min:g}-{search.crf_max:g}, at most {search.max_tries} tries"
        )
        width, height = plan.expect.width, plan.expect.height
        lines.append(f"# VMAF: {describe_scoring(scoring, width, height, plan.vmaf_scale)}")
        note = small_picture_note(scoring, width, height, search.target)
        if note:
            lines.append(f"# NOTE: {note}")
        lines += chunk_table(plan.chunks, results)
        for unit in plan.chunks:
            name, crf, window = f"chunk-{unit.chunk.index:04d}", unit.start_crf, unit.chunk.probe
            if window is not None:
                lines.append(
                    f"# {name}: first probe (frames {window.start}-{window.start + window.frames - 1}), in "
                    f"{unit.folder}; full encodes follow at the CRF the probes point to, the kept one becomes "
                    f"{unit.target}"
                )
                lines.append(shlex.join(probe_argv(unit, crf, f"{probe_name(crf)}.mkv.partial")))
            else:
                lines.append(
                    f"# {name}: first try, in {unit.folder}: writes {try_name(crf)}.mkv; the kept try becomes "
                    f"{unit.target}"
                )
                lines.append(shlex.join(try_argv(unit, crf, f"{try_name(crf)}.mkv.partial")))
    for step in plan.steps:
        lines.append(f"# {step.name}: writes {step.partial}, renamed to {step.target} on success")
        lines.append(shlex.join(step.argv))
    lines.append(f"# validate: checks {plan.paths.muxed}, then renames it to {target} via {target}.partial")
    return "\n".join(lines) + "\n"
