"""A damaged source: collect the complaints about the source from a pass that decodes it anyway, and when
there are any, place them in time with one more decode (drapto.core.damage) for the one warning."""

from __future__ import annotations

import re

from drapto.core import commands
from drapto.core.damage import Damage, DamageLocator, damage_message, is_source_error
from drapto.errors import DraptoError
from drapto.graph.runner import run_with_progress

_CONTEXT = re.compile(r"^(\[[^\]]*\]\s*)+")


class SourceErrors:
    """An `on_stderr` callback for a long ffmpeg command at `-loglevel error`: keeps the lines about its input."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        if is_source_error(line):
            self.lines.append(line.strip())


def damage_warning(ffmpeg: str, source: str, seen: SourceErrors) -> str | None:
    """None for a source read cleanly; else the warning, with the errors placed by a locating decode (or,
    should that decode fail or find none, with what the first pass saw)."""
    if not seen.lines:
        return None
    locator = DamageLocator()
    try:
        run_with_progress(commands.damage_locate_argv(ffmpeg, source), on_stderr=locator.feed)
    except DraptoError:
        pass  # the first pass read it to the end; the warning goes without times
    damage = locator.result()
    if damage.errors == 0:
        damage = Damage(errors=len(seen.lines), first=_CONTEXT.sub("", seen.lines[0]).strip())
    return damage_message(source, damage)
