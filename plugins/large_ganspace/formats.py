"""GANSpace's own files: ``ganspace-npz`` (the original's cache) and ``e4e-ganspace`` (e4e's editing ``.pt``).

* ``ganspace-npz``  ``lat_comp [c,1,D]``, ``lat_mean [1,D]``, ``lat_stdev [c]`` (+ ``var_ratio``; ``act_*`` copies)
* ``e4e-ganspace``  ``torch.save({'mean' [1,D], 'comp' [c,1,D], 'std' [c]})``
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from large_toolkit.api import (
    CheckpointError,
    Direction,
    DirectionFormat,
    DirectionSet,
    Generator,
    LatentSpace,
    UserInputError,
    as_float_tensor,
    load_npz,
    load_weights_only,
    per_direction,
    save_npz,
    save_weights,
    w_rows,
)


def sigma_direction(component: torch.Tensor, mean: torch.Tensor, stdev: float, index: int, prov: dict) -> Direction:
    """PCA component ``index`` as a W direction stepped in sigmas (GANSpace's edit scale), through the mean."""
    provenance = {**prov, "index": index, "scale": "sigma", "step_scale": stdev, "stdev": stdev}
    intercept = -float(mean.double() @ component.double())
    return Direction(component, LatentSpace.W, f"ganspace_{index}", intercept, None, None, provenance)


def ganspace_set(
    comp: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, path: Path, fmt: str, var_ratio: Any = None
) -> DirectionSet:
    """Components with sigma scaling and the W mean, as the GANSpace finder produces them."""
    comp = comp.reshape(comp.shape[0], -1).float()
    mean = mean.reshape(-1).float()
    std = std.reshape(-1).float()
    if comp.shape[0] != std.shape[0] or comp.shape[1] != mean.shape[0]:
        raise CheckpointError(f"{path}: inconsistent GANSpace shapes comp {list(comp.shape)}, mean {list(mean.shape)}")
    dirs = [
        sigma_direction(comp[i].clone(), mean, float(std[i]), i, {"format": fmt, "source": str(path)})
        for i in range(comp.shape[0])
    ]
    meta = {"format": fmt, "finder": "ganspace", "mean": mean.tolist(), "stdev": std.tolist()}
    if var_ratio is not None:
        meta["var_ratio"] = as_float_tensor(var_ratio).reshape(-1).tolist()
    return DirectionSet(dirs, std.double() ** 2, "variance", meta)


def _parts(dirs: DirectionSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    std, mean = per_direction(dirs, "stdev"), dirs.metadata.get("mean")
    if std is None or mean is None:
        raise UserInputError(
            "GANSpace formats need per-component stdev and the W mean",
            hint="write GANSpace results, or use .safetensors",
        )
    comp = w_rows(dirs)[:, None, :].numpy().astype(np.float32)
    return comp, np.asarray(mean, dtype=np.float32)[None], np.asarray(std, dtype=np.float32)


class GANSpaceNpz(DirectionFormat):
    suffixes = write_suffixes = (".npz",)
    sniff_keys = frozenset({"lat_comp"})

    def read(self, path: Path) -> DirectionSet:
        with load_npz(path) as d:
            ratio = d["var_ratio"] if "var_ratio" in d.files else None
            return ganspace_set(
                as_float_tensor(d["lat_comp"]),
                as_float_tensor(d["lat_mean"]),
                as_float_tensor(d["lat_stdev"]),
                path,
                "ganspace-npz",
                ratio,
            )

    def can_write(self, dirs: DirectionSet) -> bool:
        return per_direction(dirs, "stdev") is not None and "mean" in dirs.metadata

    def write(self, path: Path, dirs: DirectionSet, generator: Generator | None = None) -> Path:
        comp, mean, std = _parts(dirs)
        parts = {"comp": comp, "mean": mean, "stdev": std}
        arrays = {f"{prefix}_{k}": v for prefix in ("lat", "act") for k, v in parts.items()}  # as the original
        if "var_ratio" in dirs.metadata:
            arrays["var_ratio"] = np.asarray(dirs.metadata["var_ratio"], dtype=np.float32)
        return save_npz(path, arrays, compressed=True)


class E4EGANSpace(DirectionFormat):
    suffixes = (".pt", ".pth")
    sniff_keys = frozenset({"comp", "mean", "std"})

    def read(self, path: Path) -> DirectionSet:
        obj = load_weights_only(path)
        return ganspace_set(obj["comp"], obj["mean"], obj["std"], path, "e4e-ganspace")

    def write(self, path: Path, dirs: DirectionSet, generator: Generator | None = None) -> Path:
        comp, mean, std = _parts(dirs)
        return save_weights(
            path, {"mean": torch.from_numpy(mean), "comp": torch.from_numpy(comp), "std": torch.from_numpy(std)}
        )
