"""Wall time of one benchmark step, shared by the bench scripts (run as ``python bench/<script>.py``).

Best of ``repeats`` after one warm-up call: the minimum resists a noisy shared CPU,
and the warm-up keeps one-off costs (allocator, kernel selection) out.  On CUDA the
queue is drained before and after each call, so the time is the work, not its launch.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op off CUDA)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best_time(fn: Callable[[], object], device: torch.device, repeats: int = 3) -> float:
    """Best-of-``repeats`` wall seconds of ``fn()`` after one warm-up call."""
    fn()
    sync(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best
