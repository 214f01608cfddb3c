"""Per-snapshot quality numbers of a training run: FD against the training set, ``metrics.jsonl``, a chart.

Why FD against the training set with a *stored* extractor: the rotation network of ``large-tk fid`` is
trained once per real set (cached by the images' content hash) and reused, so every snapshot of a run,
a resumed run and a later ``large-tk fid --real FOLDER`` all measure with the same network and their
numbers compare.  With ``--inception-weights FILE`` torchvision's Inception-v3 is used instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from large_toolkit.api import (
    FeatureExtractor,
    GaussianStats,
    RotationExtractor,
    atomic_path,
    feature_statistics,
    frechet_distance,
    generator_batches,
    quantize,
    real_statistics,
)

METRICS_FILE = "metrics.jsonl"
CHART_FILE = "metrics.png"


class SnapshotFD:
    """FD of ``n`` generated images vs the training images, with the dataset's stored extractor."""

    def __init__(
        self,
        images: np.ndarray,
        n: int,
        device: torch.device,
        inception_weights: str | None = None,
        cache: Path | None = None,
    ) -> None:
        self.n, self.device = int(n), device
        self.extractor: FeatureExtractor
        if inception_weights:
            from large_toolkit.api import InceptionExtractor

            self.extractor = InceptionExtractor.from_file(inception_weights, device)
        else:
            rot, _ = RotationExtractor.for_dataset(images, cache)
            self.extractor = rot.to(device)
        self.real: GaussianStats = real_statistics(self.extractor, images, 250, device, cache)[0]

    @property
    def fingerprint(self) -> str:
        return self.extractor.fingerprint

    def __call__(self, G: Any, class_weights: np.ndarray | None = None, seed: int = 0) -> float:
        """FD of G's samples (fixed z seed; classes drawn in the training set's proportions when conditional).

        Unconditional runs draw exactly what ``large-tk fid --n N --seed 0`` draws, so that command on the
        run's ``G_ema`` and the training folder reproduces the last snapshot's number.
        """
        if not G.c_dim:
            return frechet_distance(
                feature_statistics(self.extractor, generator_batches(G, self.n, seed), self.device), self.real
            )
        z = G.sample_z(self.n, seed)
        c = None
        if G.c_dim:
            probs = torch.as_tensor(
                class_weights if class_weights is not None else np.ones(G.c_dim), dtype=torch.float64
            )
            idx = torch.multinomial(probs, self.n, replacement=True, generator=torch.Generator().manual_seed(seed + 1))
            c = torch.nn.functional.one_hot(idx, G.c_dim).float()

        def batches():
            with torch.no_grad():
                for s in range(0, self.n, 250):
                    cc = None if c is None else c[s : s + 250].to(G.device)
                    yield quantize(G.synthesis(G.mapping(z[s : s + 250].to(G.device), cc), noise_mode="const"))

        return frechet_distance(feature_statistics(self.extractor, batches(), self.device), self.real)


def append_metrics(out_dir: Path, record: dict[str, Any]) -> None:
    """One JSON line per snapshot (appended: a resumed run continues the same file)."""
    with (out_dir / METRICS_FILE).open("a") as f:
        f.write(json.dumps(record) + "\n")


def read_metrics(out_dir: Path) -> list[dict[str, Any]]:
    path = out_dir / METRICS_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def truncate_metrics(out_dir: Path, nimg: int) -> None:
    """Drop records after ``nimg`` (a resume from an older state must not keep a future it will redo)."""
    records = [r for r in read_metrics(out_dir) if round(r["kimg"] * 1000) <= nimg]
    with atomic_path(out_dir / METRICS_FILE) as tmp:
        tmp.write_text("".join(json.dumps(r) + "\n" for r in records))


def draw_chart(out_dir: Path) -> Path | None:
    """``metrics.png``: FD, losses and augment p over kimg (matplotlib, Agg: no display needed)."""
    records = read_metrics(out_dir)
    if not records:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    kimg = [r["kimg"] for r in records]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    fd = [(k, r["fd"]) for k, r in zip(kimg, records, strict=True) if r.get("fd") is not None]
    if fd:
        axes[0].plot(*zip(*fd, strict=True), marker="o")
        axes[0].set_title(f"FD vs training set ({records[-1].get('fd_extractor', '?')}, n={records[-1].get('fd_n')})")
    else:
        axes[0].set_title("FD (not computed)")
    axes[0].set_xlabel("kimg")
    axes[0].set_ylabel("Fréchet distance (lower is better)")
    for key in ("loss_G", "loss_D"):
        axes[1].plot(kimg, [r.get(key) for r in records], marker=".", label=key)
    axes[1].set_title("losses (mean since previous snapshot)")
    axes[1].set_xlabel("kimg")
    axes[1].set_ylabel("loss")
    axes[1].legend()
    axes[2].plot(kimg, [r.get("augment_p", 0.0) for r in records], marker=".", label="augment p")
    if any(r.get("ada_rt") is not None for r in records):
        axes[2].plot(kimg, [r.get("ada_rt") for r in records], marker=".", label="r_t = E[sign D(real)]")
    axes[2].set_title("augmentation")
    axes[2].set_xlabel("kimg")
    axes[2].set_ylabel("value")
    axes[2].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path = out_dir / CHART_FILE
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    return path
