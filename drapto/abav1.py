"""The optional ab-av1 search engine: `ab-av1 auto-encode` per chunk, as the seed ran it."""

from __future__ import annotations

import shutil

from drapto.errors import DependencyError


def require_ab_av1() -> str:
    path = shutil.which("ab-av1")
    if path is None:
        raise DependencyError(
            "--search-engine ab-av1 needs the ab-av1 program on PATH (it is not on PyPI: install it with "
            "`cargo install ab-av1` or from its releases), or use the built-in search (the default)"
        )
    return path
