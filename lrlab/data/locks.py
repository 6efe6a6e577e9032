"""Leftovers of killed runs: a file or folder in use is ``flock``-ed by the process writing it,
and one older than this process that no running process locks is stale (``is_stale``).

The lock goes with the process, even a killed one (POSIX ``flock``); where ``flock`` does not
exist (Windows) staleness is judged by age alone.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

_PROCESS_START = time.time()


def lock(handle: int) -> None:
    """Hold an exclusive ``flock`` on the open file or folder ``handle`` (POSIX; a no-op
    elsewhere). The lock goes with the process, even a killed one."""
    try:
        import fcntl
    except ImportError:  # Windows: staleness is judged by age alone
        return
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def is_stale(path: Path) -> bool:
    """True for a leftover of an earlier run: older than this process and, where ``flock``
    exists, locked by no running process."""
    try:
        if path.lstat().st_mtime >= _PROCESS_START:
            return False
        if os.name != "posix":
            return True
        handle = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        import fcntl
    except ImportError:
        os.close(handle)
        return True
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # a running fetch holds it
    finally:
        os.close(handle)
    return True
