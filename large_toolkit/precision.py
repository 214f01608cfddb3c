"""The numeric precision of generator forward passes: ``large-tk --precision fp32|bf16|fp16``.

Why a module of its own: the global option is set and checked by the CLI's root callback, which must stay
torch-free (``large-tk --help`` is fast), and read by :class:`large_toolkit.runner.Runner` and the code
paths that run a generator.  Reduced precision is autocast over the *synthesis* only: the mapping network
and the style affines stay fp32 (the generator plugins turn autocast off there), because W and S
distances are what LARGE measures and must not move with ``--precision``.
"""

from __future__ import annotations

from large_toolkit.errors import UserInputError

__all__ = ["PRECISIONS", "check_precision", "default_precision", "set_default_precision", "use_channels_last"]

PRECISIONS = ("fp32", "bf16", "fp16")

_default = {"precision": "fp32"}


def check_precision(precision: str, device_type: str | None = None) -> str:
    """``precision`` when it is known and runs on ``device_type`` (fp16 needs CUDA); else one line."""
    if precision not in PRECISIONS:
        raise UserInputError(f"unknown precision {precision!r}", hint="use fp32, bf16 or fp16")
    if precision == "fp16" and device_type is not None and device_type != "cuda":
        raise UserInputError(
            f"precision fp16 needs a CUDA device, this run uses {device_type}",
            hint="use --precision bf16 (or fp32) on CPU, or --device cuda",
        )
    return precision


def set_default_precision(precision: str) -> None:
    """Make ``precision`` what every :class:`~large_toolkit.runner.Runner` built afterwards uses (the CLI's
    ``--precision``); checked by name only, the device check happens where the device is known."""
    _default["precision"] = check_precision(precision)


def default_precision() -> str:
    """The global precision (``fp32`` unless ``--precision`` / ``LARGE_TK_PRECISION`` chose another)."""
    return _default["precision"]


def use_channels_last(device_type: str) -> bool:
    """Whether the synthesis convs should run channels-last: on CUDA only, where cuDNN's NHWC kernels (and
    tensor cores under bf16/fp16) are faster; on CPU the batched path stays NCHW (the single-image path has
    its own oneDNN layout)."""
    return device_type == "cuda"
