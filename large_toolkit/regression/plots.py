"""Charts that explain themselves, drawn by matplotlib (Agg: no display needed).

Why: a chart is often all a user forwards to a colleague, so each one carries its own explanation: a title
naming the direction and the label column, axis labels (with units when given), tick values, the fit line
with its equation, the labelled points highlighted, MAE/R²/n in the legend; per-layer bars named by W index
and the generator modules that W row feeds, with the values printed on the bars; image strips with each
image's distance (and label when known), upsampled with ``scale`` so a 32 px generator's pictures are visible.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from large_toolkit.io.atomic import atomic_path

__all__ = ["bar_chart", "layer_labels", "scatter_chart", "strip_chart"]


def _figure(width: float, height: float) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig, fig.add_subplot()


def _save(fig: Any, path: str | os.PathLike[str]) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")


def _axis_name(column: str, units: str | None) -> str:
    return f"{column} ({units})" if units else column


def scatter_chart(
    path: str | os.PathLike[str],
    distance: np.ndarray,
    values: np.ndarray,
    labelled: np.ndarray,
    *,
    line: tuple[float, float] | None,
    direction: str,
    column: str,
    units: str | None = None,
    mae: float | None = None,
    r2: float | None = None,
    metrics_on: str = "test set",
) -> None:
    """Label vs distance along the direction: labelled points (red) at their labels, the others (blue) at
    their predictions on the fit line; the legend gives the equation, MAE, R² and n."""
    fig, ax = _figure(7.0, 5.0)
    x, y, mark = np.asarray(distance, float), np.asarray(values, float), np.asarray(labelled, bool)
    if (~mark).any():
        ax.scatter(x[~mark], y[~mark], s=12, c="#3a6fd8", alpha=0.6, label=f"predicted (n={int((~mark).sum())})")
    ax.scatter(
        x[mark],
        y[mark],
        s=30,
        c="#d62728",
        edgecolors="black",
        linewidths=0.5,
        zorder=3,
        label=f"labelled (n={int(mark.sum())})",
    )
    if line is not None:
        xs = np.linspace(x.min(), x.max(), 100)
        a, b = line
        ax.plot(xs, a * xs + b, c="#2ca02c", lw=1.5, label=f"fit: {column} = {a:.4g} · distance {b:+.4g}")
    metrics = ([f"MAE {mae:.3g}"] if mae is not None else []) + ([f"R² {r2:.3f}"] if r2 is not None else [])
    if metrics:
        ax.plot([], [], " ", label=f"{', '.join(metrics)} ({metrics_on})")
    ax.set_xlabel(f"signed distance along {direction}")
    ax.set_ylabel(_axis_name(column, units))
    ax.set_title(f"{column} vs distance along {direction}")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    _save(fig, path)


def layer_labels(names: Sequence[str], modules: dict[int, list[str]] | None = None) -> list[str]:
    """``w3`` -> ``w3 · b8.conv1, b8.torgb`` when the generator says which modules W row 3 feeds."""
    out = []
    for name in names:
        idx = int(name[1:]) if name.startswith("w") and name[1:].isdigit() else None
        mods = (modules or {}).get(idx) if idx is not None else None
        out.append(f"{name} · {', '.join(mods)}" if mods else name)
    return out


def bar_chart(
    path: str | os.PathLike[str],
    values: np.ndarray,
    names: Sequence[str],
    *,
    title: str,
    ylabel: str,
    fmt: str = "{:.3f}",
) -> None:
    """One named bar per layer, its value printed above (below for negatives)."""
    v = np.asarray(values, float)
    fig, ax = _figure(max(6.0, 0.45 * v.size + 2.0), 5.0)
    pos = np.arange(v.size)
    bars = ax.bar(pos, v, color="#3a6fd8")
    ax.bar_label(bars, labels=[fmt.format(x) for x in v], fontsize=7, padding=2)
    ax.set_xticks(pos, list(names), rotation=60 if max(len(n) for n in names) > 3 else 0, ha="right", fontsize=8)
    ax.axhline(0, c="black", lw=0.8)
    ax.set_xlabel("layer (W+ row · generator modules it feeds)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path)


def _upsample(images: np.ndarray, scale: int) -> np.ndarray:
    return images if scale <= 1 else images.repeat(scale, axis=1).repeat(scale, axis=2)


def strip_chart(
    path: str | os.PathLike[str],
    images: np.ndarray,
    captions: Sequence[str],
    *,
    title: str,
    scale: int = 4,
) -> None:
    """A row of NHWC uint8 images (e.g. sorted by distance), each captioned (distance, label, seed ...)."""
    imgs = _upsample(np.asarray(images, np.uint8), scale)
    n, h, w = imgs.shape[:3]
    fig = _figure(max(4.0, n * (w / 100 + 0.1)), h / 100 + 0.8)[0]
    fig.clear()
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, img, cap in zip(axes, imgs, captions, strict=True):
        ax.imshow(img, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(cap, fontsize=7)
    fig.suptitle(title, fontsize=10)
    _save(fig, path)


def grid_chart(
    path: str | os.PathLike[str],
    images: np.ndarray,
    row_names: Sequence[str],
    col_names: Sequence[str],
    *,
    title: str,
    scale: int = 4,
) -> None:
    """A rows x cols grid of images (``images`` is ``[rows, cols, H, W, C]``), rows and columns named
    (e.g. seeds down, edit steps across)."""
    grid = np.asarray(images, np.uint8)
    rows, cols, h, w = grid.shape[:4]
    h, w = h * max(scale, 1), w * max(scale, 1)
    fig = _figure(cols * w / 100 + 1.2, rows * h / 100 + 1.0)[0]
    fig.clear()
    axes = fig.subplots(rows, cols, squeeze=False)
    for r in range(rows):
        for c in range(cols):
            ax = axes[r, c]
            ax.imshow(_upsample(grid[r, c][None], scale)[0], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == rows - 1:
                ax.set_xlabel(col_names[c], fontsize=8)
            if c == 0:
                ax.set_ylabel(row_names[r], fontsize=8)
    fig.suptitle(title, fontsize=10)
    _save(fig, path)
