"""doit's dependency file, made to suit films: a content-hash checker that hashes each large source once
per process, and a checkpoint that commits finished steps so a kill -9 loses none of them."""

from __future__ import annotations

import functools
import os
from typing import Any

from doit.dependency import MD5Checker, SqliteDB, get_file_md5


class CachedMD5Checker(MD5Checker):
    """doit's content-hash checker, hashing each (file, mtime, size) once per process: every step
    depends on the source, and re-reading a 50 GB film for each of them would cost minutes."""

    def get_state(self, dep: str, current_state: Any) -> Any:
        stat = os.stat(dep)
        if current_state and current_state[0] == stat.st_mtime:
            return None
        return stat.st_mtime, stat.st_size, _md5(dep, stat.st_mtime_ns, stat.st_size)

    def check_modified(self, file_path: str, file_stat: os.stat_result, state: Any) -> bool:
        timestamp, size, digest = state
        if file_stat.st_mtime == timestamp:
            return False
        if file_stat.st_size != size:
            return True
        return bool(digest != _md5(file_path, file_stat.st_mtime_ns, file_stat.st_size))


@functools.lru_cache(maxsize=256)
def _md5(path: str, _mtime_ns: int, _size: int) -> str:
    return str(get_file_md5(path))


def checkpoint_dependency_db() -> None:
    """doit writes its dependency file only when a run ends. Commit what finished steps recorded, so a
    run killed outright (SIGKILL, power loss) still knows them. Reaches into doit's SqliteDB internals,
    which have been stable across doit releases; any other backend is left alone."""
    from doit.globals import Globals

    backend = getattr(getattr(Globals, "dep_manager", None), "backend", None)
    if not isinstance(backend, SqliteDB) or not backend._dirty:
        return
    for task_id in backend._dirty:
        backend._conn.execute(
            "insert or replace into doit values (?,?)", (task_id, backend.codec.encode(backend._cache[task_id]))
        )
    backend._conn.commit()
    backend._dirty = set()
