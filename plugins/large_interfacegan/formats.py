"""InterFaceGAN's own files: ``boundary.npy`` and e4e's ``.pt`` boundaries.

* ``interfacegan``      ``boundary.npy`` ``[1, D]`` unit row (float32 written; shipped files are float64)
* ``e4e-interfacegan``  ``torch.save`` of a ``[1,D]`` (W) or ``[1,num_ws,D]`` (W+) tensor
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from large_toolkit.api import (
    DirectionFormat,
    DirectionSet,
    Generator,
    UserInputError,
    as_float_tensor,
    load_npy,
    load_weights_only,
    save_npy,
    save_weights,
    vectors_to_set,
    w_rows,
)


class BoundaryNpy(DirectionFormat):
    suffixes = write_suffixes = (".npy",)

    def read(self, path: Path) -> DirectionSet:
        arr = load_npy(path)
        # float64 boundaries (InterFaceGAN ships them so) stay float64: distances are computed in float64
        vectors = torch.from_numpy(arr.astype(np.float64)) if arr.dtype == np.float64 else as_float_tensor(arr)
        return vectors_to_set(vectors, path, "interfacegan")

    def write(self, path: Path, dirs: DirectionSet, generator: Generator | None = None) -> Path:
        if len(dirs) != 1:
            raise UserInputError(
                f"an InterFaceGAN boundary file holds one direction, this set has {len(dirs)}",
                hint="pick one with a spec index, or write .safetensors",
            )
        arr = w_rows(dirs).numpy().astype(np.float32)
        return save_npy(path, arr / np.linalg.norm(arr, axis=1, keepdims=True))


class E4EBoundary(DirectionFormat):
    suffixes, write_suffixes = (".pt", ".pth"), (".pt",)

    def sniff(self, path: Path) -> bool:
        return isinstance(load_weights_only(path), torch.Tensor)

    def read(self, path: Path) -> DirectionSet:
        return vectors_to_set(load_weights_only(path).float(), path, "e4e-interfacegan")

    def write(self, path: Path, dirs: DirectionSet, generator: Generator | None = None) -> Path:
        return save_weights(path, dirs[0].vector.float()[None])
