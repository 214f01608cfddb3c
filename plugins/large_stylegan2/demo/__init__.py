"""The bundled demo generator: a 32x32 StyleGAN2 trained by ``large-tk train`` on the procedural faces.

How it was made (see docs/demo.md): ``large-tk --device cuda train --backend stylegan2 --data synthetic
--n-synthetic 20000 --kimg 420 --batch 64 --gamma 0.01 --rotation-loss --snapshot-kimg 100 --seed 0``
on one NVIDIA H100 (574 s wall).  ``z_dim = w_dim = 64``, 2 mapping layers, 128 channels, 8 ws.
"""

from __future__ import annotations

from pathlib import Path

DEMO_GENERATOR = Path(__file__).with_name("demo_generator.safetensors")
