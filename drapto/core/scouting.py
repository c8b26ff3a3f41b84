"""What a chunk takes from the film's scouts. Pure.

The plan marks the scouts: the first three chunks (`reach.first_scouts`), or with the experimental film
model a fifth of the chunks spanning the film's difficulty (`filmmodel.choose_scouts`). They search from
the global prior and every other chunk waits for their results (the graph makes them a dependency). A
waiting chunk then starts from them: settled at their knee CRF when most of them found the target out of
reach from below (`reach.settled`), else, with the film model, where it places the chunk
(`filmmodel.predict`), with no window probe where the model is sure. It uses nothing but the scouts'
results, so a resumed run chooses what an uninterrupted one does.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from drapto.core import reach
from drapto.core.filmmodel import Point, measured_point, predict
from drapto.core.search import Trial
from drapto.core.units import ChunkResult, ChunkUnit, TryRecord


def scouts(units: Sequence[ChunkUnit]) -> tuple[ChunkUnit, ...]:
    """The units the others wait for: none when every unit scouts (no packet sizes to choose by) or
    another engine searches."""
    if all(u.scout for u in units) or any(u.engine != "builtin" for u in units):
        return ()
    return tuple(u for u in units if u.scout)


def _trials(records: Sequence[TryRecord]) -> list[Trial]:
    return [Trial(crf=r.crf, vmaf=r.reading) for r in records]


def points(scouted: Sequence[tuple[ChunkUnit, ChunkResult]]) -> list[tuple[int, Point]]:
    """Each scout's measured point (chunk index, point), for the ones with features and tries."""
    found = []
    for unit, result in scouted:
        if unit.features is None:
            continue
        point = measured_point(unit.features, _trials(result.tries), _trials(result.probes), unit.search)
        if point is not None:
            found.append((unit.chunk.index, point))
    return found


def start(unit: ChunkUnit, scouted: Sequence[tuple[ChunkUnit, ChunkResult]]) -> ChunkUnit:
    """The unit as it runs after the scouts: settled, or started where the film model places it (no probe
    window when it is sure), or unchanged when the model has nothing to go on."""
    if unit.scout:
        return unit
    settled = reach.settled(unit, [result for _, result in scouted])
    if settled is not unit or unit.features is None or not unit.search.film_model:
        return settled
    prediction = predict(unit.features, points(scouted), unit.search)
    if prediction is None:
        return unit
    chunk = msgspec.structs.replace(unit.chunk, probe=None) if prediction.sure else unit.chunk
    return msgspec.structs.replace(
        unit, start_crf=prediction.crf, predicted_vmaf=prediction.vmaf, slope=prediction.slope, chunk=chunk
    )
