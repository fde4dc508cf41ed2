"""Host-side tuning for XLA:CPU training: keep freed activation buffers instead of handing them back to the OS.

Why: glibc serves allocations above ~32 MiB with a fresh ``mmap`` and returns them with ``munmap`` on free, so
every training step page-faults its large activations in again (first block of expression model 1: a 37 MiB
activation; an element-wise op over it took 25 ms instead of 2 ms). Telling malloc to use its heap for all
sizes, one arena, and not to trim makes the next step reuse the same pages: ~17-20% faster train steps on the
2-core dev machine (``bench/throughput.py``). The cost: the process keeps its peak heap until it exits, which is
what a training process does anyway.

Applied once per process when ``facesweep.model.train`` is imported (it must happen before XLA starts its
worker threads to take full effect) and again, idempotently, by ``train_and_evaluate``, on Linux with glibc;
``FACESWEEP_NO_MALLOPT=1`` turns it off. A no-op elsewhere (macOS, musl).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

_M_TRIM_THRESHOLD = -1  # glibc mallopt parameter numbers (malloc.h)
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8
_applied: bool | None = None


def tune_host_allocator() -> bool:
    """Configure glibc malloc for reuse of large buffers (see module docstring); True if it was applied."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get("FACESWEEP_NO_MALLOPT") or platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    # Deliberately not asking jax for its backend first: that starts XLA's worker threads, and threads that
    # already have their own malloc arena keep it (and its per-thread mmap behaviour). On a GPU host the
    # setting only concerns host memory and is harmless.
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = libc.mallopt(_M_ARENA_MAX, 1) and libc.mallopt(_M_MMAP_MAX, 0)
        ok = ok and libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
    except (OSError, AttributeError):
        return False
    _applied = bool(ok)
    return _applied
