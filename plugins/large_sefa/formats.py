"""SeFa's own files: genforce's ``.npz`` and rosinality's ``closed_form_factorization`` ``.pt``.

* ``sefa-npz``           ``boundaries [K,D]`` rows, ``values [K]``, ``layers``, ``variant``, ``sorted``
* ``rosinality-factor``  ``{'ckpt': str, 'eigvec' [D,K]}`` (directions in **columns**)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from large_toolkit.api import (
    DirectionFormat,
    DirectionSet,
    Generator,
    LatentSpace,
    as_float_tensor,
    directions_from_rows,
    load_npz,
    load_weights_only,
    save_npz,
    save_weights,
    w_rows,
)


class SeFaNpz(DirectionFormat):
    suffixes = write_suffixes = (".npz",)
    sniff_keys = frozenset({"boundaries"})

    def read(self, path: Path) -> DirectionSet:
        with load_npz(path) as d:
            rows = as_float_tensor(d["boundaries"])
            values = as_float_tensor(d["values"]).double() if "values" in d.files else None
            layers = [int(x) for x in np.asarray(d["layers"]).reshape(-1)] if "layers" in d.files else None
        dirs = DirectionSet(
            directions_from_rows(rows, LatentSpace.W, "sefa", "sefa-npz", path),
            values,
            "eigenvalue",
            {"format": "sefa-npz", "finder": "sefa", "layers": layers},
        )
        if layers is not None:
            for direction in dirs.directions:
                direction.provenance["layers"] = layers
        return dirs

    def write(self, path: Path, dirs: DirectionSet, generator: Generator | None = None) -> Path:
        values = dirs.scores.double().numpy() if dirs.scores is not None else np.zeros(len(dirs))
        layers = np.asarray(dirs.metadata.get("layers") or [], dtype=np.int64)
        cfg = dirs.metadata.get("config") or {}
        arrays = {
            "boundaries": w_rows(dirs).numpy().astype(np.float32),
            "values": values.astype(np.float32),
            "layers": layers,
            "layer_idx": np.asarray(str(cfg.get("layers", "all"))),
            "variant": np.asarray(str(cfg.get("variant", "genforce"))),
            "sorted": np.asarray(str(cfg.get("order", "sorted")) == "sorted"),
        }
        return save_npz(path, arrays)


class RosinalityFactor(DirectionFormat):
    suffixes = (".pt", ".pth")
    sniff_keys = frozenset({"eigvec"})

    def read(self, path: Path) -> DirectionSet:
        eig = load_weights_only(path)["eigvec"].float()
        return DirectionSet(
            directions_from_rows(
                eig.T.contiguous(), LatentSpace.W, "sefa", "rosinality-factor", path, variant="rosinality"
            ),
            None,
            "score",
            {"format": "rosinality-factor", "finder": "sefa", "variant": "rosinality"},
        )

    def write(self, path: Path, dirs: DirectionSet, generator: Generator | None = None) -> Path:
        return save_weights(
            path, {"ckpt": str(dirs.metadata.get("checkpoint", "")), "eigvec": w_rows(dirs).T.contiguous()}
        )
