"""Where a chunk's CRF search starts, and what that start is expected to score. Pure."""

from __future__ import annotations

from drapto.core.search import PRIOR_SLOPE, SearchSettings, snap

# The CRF that put the median chunk of benchmarks/chunked.py at the aim (93.5 on ab-av1's scale, 720p
# upscaled): clean synthetic and animated scenes sit near 38–44, fine detail and grain near 26–42.
PRIOR_CRF_AT_93 = 38.0


def start_point(search: SearchSettings, width: int, height: int) -> tuple[float, float]:
    """(first CRF, the VMAF it is predicted to reach)."""
    crf = snap(PRIOR_CRF_AT_93 - (search.aim - 93.5) / PRIOR_SLOPE, search)
    return crf, search.aim
