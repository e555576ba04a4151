"""Keep freed buffers mapped, so bulk streams do not fault fresh pages in for every chunk.

The agent allocates and frees 256 KiB buffers all the time (socket reads, DATA payloads). glibc
hands such blocks back to the kernel when they are freed (each is its own mmap, or the trimmed
top of the heap), so the next one faults its 64 pages in again, zero-filled: about 20,000 page
faults per 400 MB carried in bench_connect, a tenth of the agent's CPU. Raising the mmap and trim
thresholds keeps those blocks in the heap for reuse. What the agent holds stays bounded by the
tunnel's flow-control windows; only the peak is kept instead of given back.
"""

from __future__ import annotations

import ctypes

# glibc's mallopt parameters (malloc.h); musl accepts the call and ignores it.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024
TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024


def keep_freed_buffers() -> bool:
    """Tune this process's allocator as above; False where the C library offers no mallopt."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
        and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1
    )
