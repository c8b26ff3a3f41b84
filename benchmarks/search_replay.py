"""Replay the CRF search offline on a chunked run's measured curves: what a search setting would cost.

    python benchmarks/search_replay.py SOURCE OUTPUT [--preset N] [--measure]

OUTPUT is the kept output of a chunked run of SOURCE (`chunked.py` / `film.py --keep DIR`: DIR/chunked/NAME.mkv),
whose work folder (`OUTPUT`'s `.drapto/STEM`) holds every chunk's tries and probes. `--measure` first tops
each chunk up with full encodes at CRF 22, 28, 34, 40, 46, 52 and probes at 26, 30, 34, 38, 42, 46, made by
drapto's own try and probe code and cached beside the run's (about six times the run's kept encodes;
`--measure` again adds nothing). Then the search (drapto.core.search, as `chunkwork` drives it) runs
against each chunk's curves, read between the measured points, for the settings below: full encodes,
probes, their cost against the kept encodes (each chunk's mean try and probe time) and the chunks in band.

One film's 24 chunks make a lumpy sample: a setting that lands a few more first tries at one start CRF
can lose them at the next. So each setting is also replayed from every start CRF 34–40 in half steps
(content a little easier or harder), and the mean over those is the figure to trust.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgspec

import drapto.core.search as search
from drapto.core.config import Config
from drapto.core.driver import Driver, Keep, Probe, next_action
from drapto.core.search import SearchSettings, Trial
from drapto.core.units import TryRecord
from drapto.graph.chunkwork import run_probe, run_try
from drapto.graph.ffmpeg import resolve_ffmpeg
from drapto.graph.planning import plan_job

TRY_CRFS = (22.0, 28.0, 34.0, 40.0, 46.0, 52.0)
PROBE_CRFS = (26.0, 30.0, 34.0, 38.0, 42.0, 46.0)
STARTS = tuple(34 + 0.5 * k for k in range(13))
Curve = dict[float, tuple[float, float]]  # CRF -> (VMAF, seconds)


def measure(source: Path, output: Path, preset: int) -> None:
    """Full encodes and probes at fixed CRFs for every chunk, two at a time, cached like the run's own."""
    config = msgspec.structs.replace(Config(), preset=preset, crop="none")
    plan, _ = plan_job(source, output, config, resolve_ffmpeg())
    jobs = [(run_try, unit, crf) for crf in TRY_CRFS for unit in plan.chunks]
    jobs += [(run_probe, unit, crf) for crf in PROBE_CRFS for unit in plan.chunks if unit.chunk.probe is not None]
    with ThreadPoolExecutor(2) as pool:
        for done, record in enumerate(pool.map(lambda job: job[0](job[1], job[2]), jobs), 1):
            print(f"\r{done}/{len(jobs)} measured (CRF {record.crf:g}: {record.vmaf:.2f})", end="", file=sys.stderr)
    print(file=sys.stderr)


def curves(work: Path) -> list[tuple[Curve, Curve]]:
    """Each chunk's (full-encode curve, probe curve) from its folder's try and probe records."""
    chunks = []
    for folder in sorted(p for p in (work / "chunks").iterdir() if p.is_dir()):
        full: Curve = {}
        probe: Curve = {}
        for path in folder.glob("*.json"):
            if not path.name.endswith(".vmaf.json"):
                record = msgspec.json.decode(path.read_bytes(), type=TryRecord)
                (probe if path.name.startswith("probe") else full)[record.crf] = (record.vmaf, record.seconds)
        chunks.append((full, probe))
    return chunks


def read(curve: Curve, crf: float) -> float:
    """The curve's VMAF at `crf`: straight between the measured points (search.predict_vmaf), along the end
    segment beyond them."""
    points = [Trial(crf=c, vmaf=v) for c, (v, _s) in sorted(curve.items())]
    end = points[:2] if crf < points[0].crf else points[-2:]
    slope = (end[0].vmaf - end[1].vmaf) / (end[1].crf - end[0].crf) if len(end) == 2 else 0.0
    vmaf = search.predict_vmaf(points, crf, slope)
    assert vmaf is not None
    return vmaf


def replay(full: Curve, probe: Curve, settings: SearchSettings, start: float) -> tuple[int, int, float, float, bool]:
    """(full encodes, probes, cost, one full encode's cost, kept in band) of one chunk's search, driven
    by the same pure driver as a real chunk (drapto.core.driver), answered from the measured curves."""
    encode_cost = statistics.mean(s for _v, s in full.values())
    probe_cost = statistics.mean(s for _v, s in probe.values()) if probe else 0.0
    probes: list[Trial] = []
    tries: list[Trial] = []
    driver = Driver(settings=settings, start_crf=start, probe=bool(probe) and search.MAX_PROBES > 0)
    while not isinstance(action := next_action(driver, probes, tries), Keep):
        if isinstance(action, Probe):
            probes.append(Trial(crf=action.crf, vmaf=read(probe, action.crf)))
        else:
            tries.append(Trial(crf=action.crf, vmaf=read(full, action.crf)))
    kept = next(t for t in tries if t.crf == action.crf)
    cost = len(tries) * encode_cost + len(probes) * probe_cost
    return len(tries), len(probes), cost, encode_cost, settings.in_band(kept.vmaf)


@contextlib.contextmanager
def constants(**values: float):
    """drapto.core.search's module constants set for one replay."""
    saved = {name: getattr(search, name) for name in values}
    for name, value in values.items():
        setattr(search, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(search, name, value)


def line(chunks: list[tuple[Curve, Curve]], label: str, **values: float) -> None:
    settings = SearchSettings(target=93.0)
    with constants(**values):
        at38 = [replay(full, probe, settings, 38.0) for full, probe in chunks]
        ratios = []
        for start in STARTS:
            runs = [replay(full, probe, settings, start) for full, probe in chunks]
            ratios.append(sum(r[2] for r in runs) / sum(r[3] for r in runs))
    work = sum(r[2] for r in at38) / sum(r[3] for r in at38)
    print(
        f"{label:28s} from CRF 38: {sum(r[0] for r in at38):3d} full encodes, {sum(r[1] for r in at38):3d} probes, "
        f"work {work:.2f}x the kept encodes, {sum(r[4] for r in at38)}/{len(at38)} in band; "
        f"from 34-40: mean {statistics.mean(ratios):.2f}x (range {min(ratios):.2f}-{max(ratios):.2f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("output", type=Path, help="the kept output of a chunked run of SOURCE")
    parser.add_argument("--preset", type=int, default=6, help="the run's preset (default 6)")
    parser.add_argument("--measure", action="store_true", help="first measure every chunk at fixed CRFs")
    args = parser.parse_args()
    if args.measure:
        measure(args.source.resolve(), args.output.resolve(), args.preset)
    chunks = curves(args.output.parent / ".drapto" / args.output.stem)
    print(f"{len(chunks)} chunks; settings replayed (drapto's now: prior slope {search.PRIOR_SLOPE:g}, "
          f"second probe beyond {search.PROBE_CLOSE:g} VMAF of the aim)")  # fmt: skip
    for prior in (0.6, 0.75, 0.9):
        for close in (2.0, 3.0):
            line(chunks, f"prior slope {prior:g}, close {close:g}", PRIOR_SLOPE=prior, PROBE_CLOSE=close)
    line(chunks, "no probes", MAX_PROBES=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
