"""Give freed memory back to the operating system (glibc only; a no-op elsewhere).

A sampling run allocates thousands of small tensors (one state per step) in the malloc arena of the
script thread it runs in; once the run is stored, they are freed, but glibc keeps the pages. Ten runs
in ten sessions left a server at 883 MB where the live data needed 402 MB; `malloc_trim` after each
computation returns the difference, and fewer arenas (one per core instead of eight) keep the
fragmentation from spreading across threads. Memory freed with no computation after it (Streamlit drops
a session 2 minutes after its tab closes) is returned by a slow background trim.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time

M_ARENA_MAX = -8  # mallopt parameter number, from glibc's malloc.h

try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _trim, _mallopt = _libc.malloc_trim, _libc.mallopt
except (OSError, AttributeError):  # not glibc (macOS, musl without these): leave memory to the allocator
    _trim = _mallopt = None


def limit_arenas(n: int | None = None) -> bool:
    """At most n malloc arenas (default: one per core) for threads that start from now on."""
    if _mallopt is None:
        return False
    return bool(_mallopt(M_ARENA_MAX, n or os.cpu_count() or 2))


def release() -> bool:
    """Return free memory at the top and in the middle of every arena to the operating system."""
    if _trim is None:
        return False
    _trim(0)
    return True


_trimmer: threading.Thread | None = None
_trimmer_lock = threading.Lock()


def for_a_server(every_s: float = 60.0) -> bool:
    """Once per process: limit the arenas, and start a daemon thread that calls release() every `every_s` s."""
    global _trimmer
    if _trim is None:
        return False
    with _trimmer_lock:
        if _trimmer is None:
            limit_arenas()

            def loop() -> None:
                while True:
                    time.sleep(every_s)
                    release()
            _trimmer = threading.Thread(target=loop, name="malloc-trim", daemon=True)
            _trimmer.start()
    return True
