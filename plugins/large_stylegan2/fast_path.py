"""Convolutions with a constant weight, pre-packed once into oneDNN's blocked layout (CPU, one image).

Why: profiling StyleGAN2 256 px at batch 1 on CPU (``torch.profiler``, 2 threads) showed the
512-channel layers at 4-32 px spending more time on their 512x512x3x3 weight than on the
convolution itself: folding the style into the weight, copying it, and oneDNN re-ordering it into
its blocked layout on every call (at 4x4 PyTorch even takes its slow non-oneDNN kernel).  Modulating
the *activations* instead (``conv(x * s, W) * demod``, upstream's non-fused formula) leaves the
weight constant, so it can be re-ordered once and kept.  Where the activation is larger than the
weight (high resolutions, few channels) folding stays cheaper; the caller decides per layer.

``torch.ops.mkldnn._reorder_convolution*_weight`` and ``_convolution*_pointwise`` are the ops
PyTorch's own CPU freezing pass (inductor) packs weights with.  When they are missing (a build without
oneDNN) or the input is not fp32 (autocast), :class:`PackedConv` runs the plain conv on the dense
weight: same numbers, only slower.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _mkldnn_ops_available() -> bool:
    mk = torch.ops.mkldnn
    names = ("_reorder_convolution_weight", "_reorder_convolution_transpose_weight", "_convolution_pointwise")
    try:
        return (
            torch.backends.mkldnn.is_available()
            and all(hasattr(mk, n) for n in names)
            and hasattr(mk, "_convolution_transpose_pointwise")
        )
    except RuntimeError:  # an op namespace that cannot be resolved in this build
        return False


class PackedConv:
    """A 3x3 conv (padding 1) or a 3x3 transposed conv (stride 2) of a fixed-size fp32 input, weight packed once.

    ``weight`` is ``[O, I, k, k]`` for a conv and ``[I, O, k, k]`` for a transposed conv (PyTorch's layouts);
    ``input_shape`` is the one input shape the packing is tuned for (other shapes still work).
    """

    def __init__(self, weight: torch.Tensor, input_shape: tuple[int, ...], transposed: bool = False) -> None:
        self.weight = weight.detach().contiguous()
        self.transposed = transposed
        self.packed: torch.Tensor | None = None
        if self.weight.device.type == "cpu" and self.weight.dtype == torch.float32 and _mkldnn_ops_available():
            mk, shape = torch.ops.mkldnn, list(input_shape)
            try:
                if transposed:
                    self.packed = mk._reorder_convolution_transpose_weight(
                        self.weight, [0, 0], [0, 0], [2, 2], [1, 1], 1, shape
                    )
                else:
                    self.packed = mk._reorder_convolution_weight(self.weight, [1, 1], [1, 1], [1, 1], 1, shape)
            except RuntimeError:  # oneDNN refused this shape: the dense conv is still correct
                self.packed = None

    def __call__(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        use_packed = (
            self.packed is not None
            and x.dtype == torch.float32
            and x.device.type == "cpu"
            and not torch.is_autocast_enabled("cpu")
        )
        if use_packed:
            mk = torch.ops.mkldnn
            if self.transposed:
                return mk._convolution_transpose_pointwise(
                    x, self.packed, bias, [0, 0], [0, 0], [2, 2], [1, 1], 1, "none", [], ""
                )
            return mk._convolution_pointwise(x, self.packed, bias, [1, 1], [1, 1], [1, 1], 1, "none", [], "")
        if self.transposed:
            return F.conv_transpose2d(x, self.weight, bias, stride=2)
        return F.conv2d(x, self.weight, bias, padding=1)
