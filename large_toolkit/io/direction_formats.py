"""Import/export of the original tools' direction files.

Reading never executes code: ``.npy``/``.npz`` load with ``allow_pickle=False``
and ``.pt`` with ``torch.load(weights_only=True, map_location='cpu')`` (some
e4e files were saved on CUDA).  Everything becomes a
:class:`~large_toolkit.types.DirectionSet` in our conventions (rows are
directions), and the writers produce files the originals consume.

Formats (``detect_format`` names):

* ``large-tk``            our safetensors (:func:`large_toolkit.io.artifacts.load_directions`)
* ``interfacegan``        ``boundary.npy`` ``[1, D]`` (float32 written; shipped files are float64)
* ``ganspace-npz``        ``lat_comp [c,1,D]``, ``lat_mean [1,D]``, ``lat_stdev [c]`` (+ ``var_ratio``)
* ``sefa-npz``            ``boundaries [K,D]`` rows, ``values [K]``, ``layers``, ``variant``, ``sorted``
* ``e4e-interfacegan``    ``torch.save`` of a ``[1,D]`` (W) or ``[1,num_ws,D]`` (W+) tensor
* ``e4e-ganspace``        ``torch.save({'mean' [1,D], 'comp' [c,1,D], 'std' [c]})``
* ``rosinality-factor``   ``{'ckpt': str, 'eigvec' [D,K]}`` (directions in **columns**)
* ``voynov``              deformator state dict: ``log_mat_half`` (ortho: ``expm(L-Lᵀ)``) or ``linear.weight``
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from large_toolkit.errors import ArtifactMismatchError, CheckpointError, UserInputError
from large_toolkit.io.atomic import atomic_path
from large_toolkit.types import Direction, DirectionSet, LatentSpace

if TYPE_CHECKING:
    from large_toolkit.interfaces import Generator

WRITE_FORMATS = (
    "large-tk",
    "interfacegan",
    "ganspace-npz",
    "sefa-npz",
    "e4e-interfacegan",
    "e4e-ganspace",
    "rosinality-factor",
)


def _tensor(a: Any) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64)).float() if not isinstance(a, torch.Tensor) else a.float()


def _dirs(vectors: torch.Tensor, space: LatentSpace, prefix: str, fmt: str, path: Path, **prov: Any) -> list[Direction]:
    return [
        Direction(
            vectors[i].clone(),
            space,
            f"{prefix}_{i}" if len(vectors) > 1 else prefix,
            0.0,
            None,
            None,
            {"format": fmt, "source": str(path), "index": i, **prov},
        )
        for i in range(len(vectors))
    ]


def _from_vectors(arr: torch.Tensor, path: Path, fmt: str) -> DirectionSet:
    """[D], [1,D], [K,D] -> W directions; [1,L,D] -> one W+ direction."""
    name = path.stem.removesuffix("_boundary")
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim == 3 and arr.shape[0] == 1:
        return DirectionSet(
            [Direction(arr[0].clone(), LatentSpace.WPLUS, name, 0.0, None, None, {"format": fmt, "source": str(path)})],
            None,
            "score",
            {"format": fmt},
        )
    if arr.ndim != 2:
        raise CheckpointError(f"{path}: expected a [1, D] or [K, D] direction array, got shape {list(arr.shape)}")
    return DirectionSet(_dirs(arr, LatentSpace.W, name, fmt, path), None, "score", {"format": fmt})


def _ganspace(
    comp: torch.Tensor,
    mean: torch.Tensor,
    std: torch.Tensor,
    path: Path,
    fmt: str,
    var_ratio: torch.Tensor | None = None,
) -> DirectionSet:
    comp = comp.reshape(comp.shape[0], -1).float()
    mean = mean.reshape(-1).float()
    std = std.reshape(-1).float()
    if comp.shape[0] != std.shape[0] or comp.shape[1] != mean.shape[0]:
        raise CheckpointError(f"{path}: inconsistent GANSpace shapes comp {list(comp.shape)}, mean {list(mean.shape)}")
    dirs = [
        Direction(
            comp[i].clone(),
            LatentSpace.W,
            f"ganspace_{i}",
            -float(mean @ comp[i]),
            None,
            None,
            {
                "format": fmt,
                "source": str(path),
                "index": i,
                "scale": "sigma",
                "step_scale": float(std[i]),
                "stdev": float(std[i]),
            },
        )
        for i in range(comp.shape[0])
    ]
    meta = {"format": fmt, "finder": "ganspace", "mean": mean.tolist(), "stdev": std.tolist()}
    if var_ratio is not None:
        meta["var_ratio"] = var_ratio.reshape(-1).tolist()
    return DirectionSet(dirs, std.double() ** 2, "variance", meta)


def voynov_matrix(state: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A Voynov deformator state dict -> (``A [D, K]`` float64, direction k = column k; bias or None).

    ``ortho`` (``log_mat_half``) is ``expm(L - Lᵀ)``, computed in float64 so the
    exported directions are orthonormal to ~1e-15; ``linear``/``proj``
    (``linear.weight [D, K]``) are returned as stored (not normalised).
    Shared by the importer and the ``voynov`` finder plugin, so a trained
    deformator and the same deformator read back from disk give the same matrix.
    """
    if "log_mat_half" in state:
        half = state["log_mat_half"].double()
        return torch.linalg.matrix_exp(half - half.T), None
    bias = state.get("linear.bias")
    return state["linear.weight"].double(), None if bias is None else bias.double()


def write_voynov_state(path: str | os.PathLike[str], state: Mapping[str, torch.Tensor]) -> Path:
    """Write a deformator state dict as the original's ``deformator_{step}.pt`` (CPU tensors, atomic)."""
    p = Path(path)
    clean = {k: v.detach().to("cpu", torch.float32).contiguous().clone() for k, v in state.items()}
    with atomic_path(p) as tmp:
        torch.save(clean, str(tmp))
    return p


def _voynov(state: dict[str, torch.Tensor], path: Path) -> DirectionSet:
    mat, bias = voynov_matrix(state)
    rows = mat.T.float()
    prov: dict[str, Any] = {"scale": "unit", "shift_scale": 6.0}
    if bias is not None:
        prov["bias"] = bias.float().tolist()
    return DirectionSet(
        _dirs(rows, LatentSpace.W, "voynov", "voynov", path, **prov), None, "score", {"format": "voynov"}
    )


def detect_format(path: str | os.PathLike[str]) -> str:
    """Name the format of a direction file by suffix and content (see the module docstring)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".safetensors":
        return "large-tk"
    if suffix == ".npy":
        return "interfacegan"
    if suffix == ".npz":
        with np.load(p, allow_pickle=False) as data:
            keys = set(data.files)
        if "lat_comp" in keys:
            return "ganspace-npz"
        if "boundaries" in keys:
            return "sefa-npz"
        raise CheckpointError(
            f"{p}: unknown npz direction file (keys {sorted(keys)})",
            hint="expected GANSpace (lat_comp, lat_mean, lat_stdev) or SeFa (boundaries, values)",
        )
    if suffix in (".pt", ".pth"):
        obj = _torch_load(p)
        if isinstance(obj, torch.Tensor):
            return "e4e-interfacegan"
        if isinstance(obj, dict) and {"comp", "mean", "std"} <= set(obj):
            return "e4e-ganspace"
        if isinstance(obj, dict) and "eigvec" in obj:
            return "rosinality-factor"
        if isinstance(obj, dict) and ("log_mat_half" in obj or "linear.weight" in obj):
            return "voynov"
        raise CheckpointError(f"{p}: unknown .pt direction file", hint="expected an e4e, rosinality or Voynov file")
    raise UserInputError(f"{p}: unknown direction file type {suffix!r}", hint="use .safetensors, .npy, .npz or .pt")


def _torch_load(p: Path) -> Any:
    try:
        return torch.load(str(p), weights_only=True, map_location="cpu")
    except Exception as exc:  # unsafe or corrupt pickles end in one line
        raise CheckpointError(
            f"{p}: cannot read as a weights-only torch file ({type(exc).__name__})",
            hint="only tensors/dicts of tensors are accepted",
        ) from None


def load_direction_file(path: str | os.PathLike[str], generator: Generator | None = None) -> DirectionSet:
    """Read any supported direction file; checks the dimension against ``generator`` when given."""
    p = Path(path)
    if not p.is_file():
        raise UserInputError(f"direction file not found: {p}")
    fmt = detect_format(p)
    if fmt == "large-tk":
        from large_toolkit.io.artifacts import load_directions

        return load_directions(p, generator)
    if fmt == "interfacegan":
        try:
            arr = np.load(p, allow_pickle=False)
        except ValueError as exc:
            raise CheckpointError(f"{p}: not a plain numeric .npy ({exc})") from None
        # float64 boundaries (InterFaceGAN ships them so) stay float64: distances are computed in float64
        dirs = _from_vectors(
            torch.from_numpy(arr.astype(np.float64)) if arr.dtype == np.float64 else _tensor(arr), p, fmt
        )
    elif fmt == "ganspace-npz":
        with np.load(p, allow_pickle=False) as d:
            dirs = _ganspace(
                _tensor(d["lat_comp"]),
                _tensor(d["lat_mean"]),
                _tensor(d["lat_stdev"]),
                p,
                fmt,
                _tensor(d["var_ratio"]) if "var_ratio" in d.files else None,
            )
    elif fmt == "sefa-npz":
        with np.load(p, allow_pickle=False) as d:
            rows = _tensor(d["boundaries"])
            values = _tensor(d["values"]).double() if "values" in d.files else None
            layers = [int(x) for x in np.asarray(d["layers"]).reshape(-1)] if "layers" in d.files else None
        dirs = DirectionSet(
            _dirs(rows, LatentSpace.W, "sefa", fmt, p),
            values,
            "eigenvalue",
            {"format": fmt, "finder": "sefa", "layers": layers},
        )
        if layers is not None:
            for d_ in dirs.directions:
                d_.provenance["layers"] = layers
    else:
        obj = _torch_load(p)
        if fmt == "e4e-interfacegan":
            dirs = _from_vectors(obj.float(), p, fmt)
        elif fmt == "e4e-ganspace":
            dirs = _ganspace(obj["comp"], obj["mean"], obj["std"], p, fmt)
        elif fmt == "rosinality-factor":
            eig = obj["eigvec"].float()
            dirs = DirectionSet(
                _dirs(eig.T.contiguous(), LatentSpace.W, "sefa", fmt, p, variant="rosinality"),
                None,
                "score",
                {"format": fmt, "finder": "sefa", "variant": "rosinality"},
            )
        else:
            dirs = _voynov(obj, p)
    if generator is not None:
        for d_ in dirs.directions:
            if d_.dim != generator.w_dim:
                raise ArtifactMismatchError(
                    f"{p}: directions have {d_.dim} dims, the generator has w_dim {generator.w_dim}",
                    hint="use directions made for a generator of this size",
                )
            if d_.space is LatentSpace.WPLUS and d_.vector.shape[0] != generator.num_ws:
                raise ArtifactMismatchError(
                    f"{p}: W+ direction has {d_.vector.shape[0]} layers, the generator has num_ws {generator.num_ws}"
                )
    return dirs


# -- writers -----------------------------------------------------------------------------------


def _rows(dirs: DirectionSet) -> torch.Tensor:
    if any(d.space is not LatentSpace.W for d in dirs.directions):
        raise UserInputError("this format holds W directions only")
    return torch.stack([d.vector.float().cpu() for d in dirs.directions])


def _meta_list(dirs: DirectionSet, key: str) -> list[float] | None:
    """Per-direction values: from each direction's provenance (survives picking one), else set metadata."""
    vals = [d.provenance.get(key) for d in dirs.directions]
    if all(v is not None for v in vals):
        return [float(v) for v in vals]
    if key in dirs.metadata and len(dirs.metadata[key]) == len(dirs):
        return [float(x) for x in dirs.metadata[key]]
    return None


def save_direction_file(
    path: str | os.PathLike[str], dirs: DirectionSet, fmt: str | None = None, generator: Generator | None = None
) -> Path:
    """Write ``dirs`` in ``fmt`` (default: by suffix; ``.npz`` = GANSpace when it has stdevs, else SeFa)."""
    p = Path(path)
    if not len(dirs):
        raise UserInputError("no directions to write")
    if fmt is None:
        suffix = p.suffix.lower()
        fmt = {".safetensors": "large-tk", ".npy": "interfacegan", ".pt": "e4e-interfacegan"}.get(suffix)
        if suffix == ".npz":
            fmt = "ganspace-npz" if _meta_list(dirs, "stdev") is not None else "sefa-npz"
        if fmt is None:
            raise UserInputError(f"cannot tell the format of {p}", hint=f"pass one of {', '.join(WRITE_FORMATS)}")
    if fmt not in WRITE_FORMATS:
        raise UserInputError(f"unknown direction format {fmt!r}", hint=f"use one of {', '.join(WRITE_FORMATS)}")
    if fmt == "large-tk":
        from large_toolkit.io.artifacts import save_directions

        return save_directions(p, dirs, generator)
    if fmt == "e4e-interfacegan":
        d = dirs[0]
        tensor = d.vector.float()[None]
        with atomic_path(p) as tmp:
            torch.save(tensor, str(tmp))
        return p
    if fmt == "interfacegan":
        if len(dirs) != 1:
            raise UserInputError(
                f"an InterFaceGAN boundary file holds one direction, this set has {len(dirs)}",
                hint="pick one with a spec index, or write .safetensors",
            )
        arr = _rows(dirs).numpy().astype(np.float32)
        arr = arr / np.linalg.norm(arr, axis=1, keepdims=True)
        with atomic_path(p) as tmp, open(tmp, "wb") as fh:
            np.save(fh, arr)
        return p
    rows = _rows(dirs)
    if fmt in ("ganspace-npz", "e4e-ganspace"):
        std = _meta_list(dirs, "stdev")
        mean = dirs.metadata.get("mean")
        if std is None or mean is None:
            raise UserInputError(
                "GANSpace formats need per-component stdev and the W mean",
                hint="write GANSpace results, or use .safetensors",
            )
        comp = rows[:, None, :].numpy().astype(np.float32)
        mean_arr = np.asarray(mean, dtype=np.float32)[None]
        std_arr = np.asarray(std, dtype=np.float32)
        if fmt == "e4e-ganspace":
            with atomic_path(p) as tmp:
                torch.save(
                    {
                        "mean": torch.from_numpy(mean_arr),
                        "comp": torch.from_numpy(comp),
                        "std": torch.from_numpy(std_arr),
                    },
                    str(tmp),
                )
            return p
        extra = {}
        if "var_ratio" in dirs.metadata:
            extra["var_ratio"] = np.asarray(dirs.metadata["var_ratio"], dtype=np.float32)
        with atomic_path(p) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(
                fh,
                lat_comp=comp,
                lat_mean=mean_arr,
                lat_stdev=std_arr,
                act_comp=comp,
                act_mean=mean_arr,
                act_stdev=std_arr,
                **extra,
            )
        return p
    if fmt == "rosinality-factor":
        with atomic_path(p) as tmp:
            torch.save({"ckpt": str(dirs.metadata.get("checkpoint", "")), "eigvec": rows.T.contiguous()}, str(tmp))
        return p
    # sefa-npz
    values = dirs.scores.double().numpy() if dirs.scores is not None else np.zeros(len(dirs))
    layers = np.asarray(dirs.metadata.get("layers") or [], dtype=np.int64)
    cfg = dirs.metadata.get("config") or {}
    with atomic_path(p) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            boundaries=rows.numpy().astype(np.float32),
            values=values.astype(np.float32),
            layers=layers,
            layer_idx=np.asarray(str(cfg.get("layers", "all"))),
            variant=np.asarray(str(cfg.get("variant", "genforce"))),
            sorted=np.asarray(str(cfg.get("order", "sorted")) == "sorted"),
        )
    return p
