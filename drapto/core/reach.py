"""When the VMAF target is out of reach from below (a small picture scored upscaled to 1080p, say): the
evidence, the one warning per file, and what later chunks start from so they stop proving it again. Pure.

Deterministic on resume: only the scouts' results decide (`core.scouting`), the later chunks wait for
them (the graph makes their results a dependency), and a chunk uses nothing but their results.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import msgspec

from drapto.core.search import KNEE_MARGIN, SearchSettings, snap
from drapto.core.units import ChunkResult, ChunkUnit

SCOUTS = 3  # without the film model: the first chunks, whose results decide whether the rest settle


# The settling rule is needed only where the band can be out of reach from below. A picture scored at its
# own size or at 1080p reaches VMAF 95 by CRF 20 on the content measured (grain, the hardest, scored 94.2
# at CRF 25 even upscaled from 720p: ../shared/reference/measurements.md); a picture below 720p scored
# upscaled does not (a 144p film gained 0.3 VMAF from CRF 20 to 10, at 89).
SURE_TARGET = 95.0
SURE_CRF_MIN = 20.0


def may_settle(search: SearchSettings, small_picture: bool) -> bool:
    """Whether any chunk may find the band out of reach from below, so that the later chunks should wait
    for the scouts to settle them: a picture below 720p scored upscaled (`small_picture`), a target above
    95, or a CRF range that starts above 20. Decided from the plan alone, so a resumed run decides alike."""
    return small_picture or search.target > SURE_TARGET or search.crf_min > SURE_CRF_MIN


def first_scouts(count: int, settle: bool = True) -> tuple[int, ...]:
    """The chunks the others wait for when the film model is off: the first `SCOUTS` in plan order, or
    every chunk (nobody waits) when there are no more than that or no chunk can need settling."""
    return tuple(range(count)) if count <= SCOUTS or not settle else tuple(range(SCOUTS))


def below_band(result: ChunkResult, search: SearchSettings) -> bool:
    """Kept under the band because the band was out of reach. Not a chunk capped by size: the ceiling kept
    it from the lower CRFs, so its tries do not say whether the band was in reach."""
    return result.judged < search.target - search.below and not result.capped


def capped_notice(results: Sequence[ChunkResult]) -> str | None:
    """The file's one line about chunks kept under the band by the size ceiling; None when there are none."""
    capped = [r for r in results if r.capped]
    if not capped:
        return None
    scores = [r.vmaf for r in capped]
    crfs = [r.crf for r in capped]
    return (
        f"{len(capped)} of {len(results)} chunks capped by size: the CRFs that could reach the target take more "
        f"bytes than the source spent on their frames, so each keeps the lowest CRF under its ceiling (CRF "
        f"{min(crfs):g}-{max(crfs):g}, VMAF {min(scores):.2f}-{max(scores):.2f}); --size-ceiling 0 lets them grow, and "
        "on grain --film-grain N may reach the target for fewer bytes"
    )


def settle_crf(results: Sequence[ChunkResult], search: SearchSettings) -> float | None:
    """When most scouts ended below the band, the median of their kept (knee) CRFs; else None."""
    low = [r for r in results if below_band(r, search)]
    if not results or 2 * len(low) <= len(results):
        return None
    return snap(statistics.median(r.crf for r in low), search)


def settled(unit: ChunkUnit, results: Sequence[ChunkResult]) -> ChunkUnit:
    """The unit as it runs after the scouts: unchanged, or starting at their knee CRF with no probes, its
    search ending at the first try under the band (a try over it still searches upwards, to save bytes)."""
    crf = settle_crf(results, unit.search)
    if crf is None or unit.chunk.index in {r.index for r in results}:
        return unit
    return msgspec.structs.replace(
        unit,
        start_crf=crf,
        predicted_vmaf=None,
        search=msgspec.structs.replace(unit.search, settle_below=True),
        chunk=msgspec.structs.replace(unit.chunk, probe=None),
    )


def best_vmaf(result: ChunkResult) -> float:
    return max((t.reading for t in result.tries), default=result.judged)


def out_of_reach_warning(results: Sequence[ChunkResult], search: SearchSettings, scored: str) -> str | None:
    """The file's one warning: how many chunks could not reach the target, their best VMAF, what was kept
    and what to change; None when every chunk reached the band's floor. `scored` says how VMAF was scored."""
    low = [r for r in results if below_band(r, search)]
    if not low:
        return None
    best = [best_vmaf(r) for r in low]
    crfs = [r.crf for r in low]
    floor = search.target - search.below
    return (
        f"VMAF {search.target:g} is out of reach for {len(low)} of {len(results)} chunks: their best VMAF "
        f"measured {min(best):.1f}-{max(best):.1f} (the band starts at {floor:g}), scored {scored}; each kept "
        f"at the knee of its curve (the highest CRF within {KNEE_MARGIN:g} VMAF of its best), CRF "
        f"{min(crfs):g}-{max(crfs):g}. Lower --target-vmaf (e.g. {max(1, int(min(best))):d}), or score at the "
        f"picture's own size with --vmaf-scale none"
    )
