"""The bundled demo encoder, trained for the bundled demo StyleGAN2 (``large_stylegan2.demo``).

Made with ``large-tk train-encoder --backend stylegan2 --checkpoint <demo generator> --steps 6000
--batch-size 64 --input-size 32 --lr 0.001 --seed 0 --device cuda`` on one NVIDIA H100 (118 s wall).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from large_toolkit.api import UserInputError

DEMO_ENCODER = Path(__file__).with_name("demo_encoder.safetensors")


def demo_encoder_for(generator: Any) -> str:
    """The bundled encoder's path when ``generator`` is the demo model; otherwise a clear error."""
    from large_toolkit.api import load_tensors

    _, meta = load_tensors(DEMO_ENCODER)
    if (meta.get("generator") or {}).get("fingerprint") != generator.fingerprint():
        raise UserInputError(
            "the encoder inverter needs an encoder trained for this generator (the bundled one fits the demo model)",
            hint="train one with `large-tk train-encoder ... --out enc.safetensors` and pass --inverter-checkpoint "
            "enc.safetensors, or use --inverter optim",
        )
    return str(DEMO_ENCODER)
