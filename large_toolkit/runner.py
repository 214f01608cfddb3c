"""Where and how heavy work runs: device choice, batching, progress, OOM back-off, seeds.

Every command and plugin goes through :class:`Runner` so that ``--device``,
``--batch-size`` and progress bars behave the same everywhere.  On CUDA an
out-of-memory error halves the batch and retries instead of failing the run.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from large_toolkit.errors import DeviceError, UserInputError
from large_toolkit.precision import check_precision, default_precision
from large_toolkit.progress import make_progress
from large_toolkit.validate import check_count_of

__all__ = [
    "Runner",
    "batched",
    "make_progress",
    "parse_seeds",
    "precision_autocast",
    "resolve_device",
    "seeded_generator",
]


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device:
    """``auto`` -> ``cuda`` when a GPU is present, else ``cpu``; ``cuda:N`` is checked to exist."""
    if isinstance(spec, torch.device):
        return spec
    text = (spec or "auto").strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(text)
    except RuntimeError:
        raise DeviceError(f"unknown device {spec!r}", hint="use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device {spec!r} requested but no CUDA GPU is available", hint="use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(
                f"device {spec!r} does not exist", hint=f"this machine has {torch.cuda.device_count()} GPU(s)"
            )
    elif device.type not in ("cpu", "mps"):
        raise DeviceError(f"unsupported device {spec!r}", hint="use auto, cpu, cuda or cuda:N")
    return device


def seeded_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch RNG with a fixed seed: every random step in large-tk takes one."""
    return torch.Generator(device=torch.device(device)).manual_seed(int(seed))


def precision_autocast(
    device: torch.device | str, precision: str | None = None
) -> contextlib.AbstractContextManager[Any]:
    """Autocast for ``precision`` (default: the global ``--precision``) on ``device``; a no-op for fp32.

    What every generator forward pass runs under, so ``--precision`` means the same in every command.
    """
    device = torch.device(device)
    precision = check_precision(precision or default_precision(), device.type)
    if precision == "fp32" or device.type not in ("cuda", "cpu"):
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.float16 if precision == "fp16" else torch.bfloat16)


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


@dataclass
class Runner:
    """Runs a function over batches of a tensor on one device.

    ``precision``: ``fp32``, ``fp16`` or ``bf16`` autocast (default: the global ``--precision``, fp32 unless
    set).  On CPU only ``bf16`` exists (CPU autocast; fp16 is refused with a hint): it changes the numbers by
    bf16 rounding (8-bit mantissa; generator images stay within 3 % (StyleGAN2) / 8 % (StyleGAN3) of fp32,
    see tests/core/test_precision.py and docs/devices.md), so fp32 remains the default reference.  Results
    come back as float32 either way.
    """

    device: torch.device = field(default_factory=lambda: resolve_device("auto"))
    batch_size: int = 16
    precision: str = field(default_factory=default_precision)
    show_progress: bool = True
    progress_callback: Callable[[int, int], None] | None = None

    def __post_init__(self) -> None:
        self.device = resolve_device(self.device)
        if self.batch_size < 1:
            raise UserInputError(f"batch size must be >= 1, got {self.batch_size}")
        check_precision(self.precision, self.device.type)

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """Autocast for the chosen precision on this device (a no-op for fp32)."""
        return precision_autocast(self.device, self.precision)

    def map(
        self,
        fn: Callable[[torch.Tensor], torch.Tensor],
        inputs: torch.Tensor,
        description: str = "working",
        grad: bool = False,
    ) -> torch.Tensor:
        """``fn`` over ``inputs`` in batches (moved to the device); results concatenated on the CPU."""
        outputs: list[torch.Tensor] = []
        total = int(inputs.shape[0])
        ctx = contextlib.nullcontext() if grad else torch.inference_mode()
        with make_progress(disable=not self.show_progress) as progress, ctx:
            task = progress.add_task(description, total=total)
            for out, done in self._batches(fn, inputs):
                outputs.append(out.detach().float().cpu())
                progress.update(task, completed=done)
                if self.progress_callback is not None:
                    self.progress_callback(done, total)
        if not outputs:
            raise UserInputError("nothing to process: the input is empty")
        return torch.cat(outputs)

    def _batches(
        self, fn: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor
    ) -> Iterator[tuple[torch.Tensor, int]]:
        start, size, total = 0, self.batch_size, int(inputs.shape[0])
        while start < total:
            chunk = inputs[start : start + size].to(self.device)
            try:
                with self.autocast():
                    out = fn(chunk)
            except RuntimeError as exc:
                if self.device.type == "cuda" and _is_oom(exc) and size > 1:
                    torch.cuda.empty_cache()
                    size = max(1, size // 2)
                    print(f"warning: CUDA out of memory, retrying with batch size {size}", file=sys.stderr)
                    continue
                raise
            start += chunk.shape[0]
            yield out, start


def parse_seeds(text: str) -> list[int]:
    """``0-7``, ``1,5,9`` or ``0-3,10`` -> a list of seeds (as the original ``generate.py`` accepts)."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part[1:]:
                lo, hi = part.split("-", 1)
                check_count_of(len(seeds) + max(int(hi) - int(lo) + 1, 0), "--seeds")
                seeds.extend(range(int(lo), int(hi) + 1))
            elif part:
                seeds.append(int(part))
    except UserInputError:
        raise
    except ValueError:
        raise UserInputError(f"bad seed list {text!r}", hint="use e.g. 0-7 or 1,5,9") from None
    check_count_of(seeds, "--seeds")
    if not seeds:
        raise UserInputError(f"bad seed list {text!r}: no seeds", hint="use e.g. 0-7 or 1,5,9")
    if any(s < 0 or s >= 2**32 for s in seeds):
        raise UserInputError("seeds must be in 0..2**32-1")
    return seeds


def batched(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
