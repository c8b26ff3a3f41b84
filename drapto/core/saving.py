"""Whether an output pays for itself: what it saves against its source, a loud word when it grew, and the
`min_saving` rule that discards an output saving too little. Pure: sizes in, decisions and words out."""

from __future__ import annotations


def saving_percent(input_bytes: int, output_bytes: int) -> float:
    """Percent smaller than the source (negative: larger)."""
    return (input_bytes - output_bytes) / input_bytes * 100 if input_bytes else 0.0


def grew(input_bytes: int, output_bytes: int) -> bool:
    return output_bytes > input_bytes


def discard(input_bytes: int, output_bytes: int, min_saving: float | None) -> bool:
    """True when `min_saving` is set and the output saves less than that many percent: it is not written."""
    return min_saving is not None and saving_percent(input_bytes, output_bytes) < min_saving


def growth_warning(input_bytes: int, output_bytes: int) -> str:
    """What a user must hear about an output larger than its source."""
    return (
        f"the output is {-saving_percent(input_bytes, output_bytes):.1f}% LARGER than its source: it costs space "
        "instead of saving it (the source is untouched; --min-saving 0 discards such outputs)"
    )
