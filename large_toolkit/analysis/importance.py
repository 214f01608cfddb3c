"""Per-layer / per-channel importance of a direction, and per-layer linearity against labels.

(a) :func:`gradient_importance` is the released ``explore_latent_channel_strength.py``
(research notes §2.4), on any :class:`~large_toolkit.interfaces.Generator`:

* random pairs: ``A = tile(w1)``, ``B = tile(w2)`` with w1, w2 mapped from
  z ~ N(0, I); ``R += |d L1(G(A), G(B)) / dA|``;
* edit pairs: ``w_p = w - (w.n + b) n`` (projected onto the hyperplane),
  ``A = tile(w_p + s1 n)``, ``B = tile(w_p - s2 n)``, s1, s2 ~ U(max/2, max);
  ``E += |dL1/dA|``;
* every image is rendered with truncation 0.5 toward ``w_avg`` (hard-coded in
  the release); ``g = (E / n_edit) / (R / n_random)`` per channel;
  ``layer_w = mean_channels(g) / sum(g)`` (W+ weights sum to ``1 / w_dim``,
  as released: scale does not matter to OLS, and ``--normalize-weights``
  rescales), ``channel_w = g / sum(g)``.

The ratio is why the random pass exists: some layers move pixels more than
others whatever the edit, and dividing by their generic sensitivity leaves
what is specific to the direction.  With the released default of one
optimisation step, the gradient at the starting point is all that is used,
so no optimiser step is taken.  Pairs are independent, so a batch's summed
loss has exactly the per-pair gradients: we run ``batch_size`` pairs per
backward pass on the generator's device.  The S variant differentiates with
respect to the style vectors (``synthesis_from_styles``) and groups channels
by style layer.

(b) :func:`layer_linearity` is R² of the label against each layer's distance
(the square of Pearson's r, i.e. the R² of a 1-D OLS fit): which layers a
linear few-shot fit should use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from large_toolkit.errors import UserInputError
from large_toolkit.types import Direction, LatentSpace, style_offsets

if TYPE_CHECKING:
    from large_toolkit.interfaces import Generator

RELEASED_DEFAULTS: dict[str, Any] = {
    "random_samples": 100,
    "edit_samples": 100,
    "max_step": 5.0,
    "truncation": 0.5,
    "seed": 8,
}


@dataclass
class ImportanceResult:
    """Layer and channel weights of one direction (released normalisation, see the module docstring)."""

    layer_weights: np.ndarray
    channel_weights: np.ndarray
    edit_grads: np.ndarray
    random_grads: np.ndarray
    layer_names: list[str]
    space: str
    settings: dict[str, Any] = field(default_factory=dict)

    def top_layers(self, k: int = 4) -> list[int]:
        return np.argsort(-self.layer_weights, kind="stable")[:k].tolist()

    def to_dict(self) -> dict[str, Any]:
        total = float(self.layer_weights.sum())
        return {
            "space": self.space,
            "layers": self.layer_names,
            "layer_weights": self.layer_weights.tolist(),
            "layer_weights_normalized": (self.layer_weights / total).tolist() if total else None,
            "top_layers": [self.layer_names[i] for i in self.top_layers()],
            "settings": self.settings,
        }


def _w_vector(direction: Direction, num_ws: int) -> torch.Tensor:
    """The direction as ``[num_ws, w_dim]`` (a W direction is tiled, as ``--boundary_to_wp``)."""
    if direction.space is LatentSpace.W:
        return direction.vector.detach().float().unsqueeze(0).repeat(num_ws, 1)
    if direction.space is LatentSpace.WPLUS:
        if direction.vector.shape[0] != num_ws:
            raise UserInputError(f"W+ direction has {direction.vector.shape[0]} layers, the generator has {num_ws}")
        return direction.vector.detach().float()
    raise UserInputError(
        f"layer importance needs a W or W+ direction, got {direction.space.value}",
        hint="use a W/W+ direction (e.g. sefa:3); --space s measures S channels of a W direction",
    )


def gradient_importance(
    generator: Generator,
    direction: Direction,
    *,
    space: str | LatentSpace = LatentSpace.WPLUS,
    random_samples: int = 100,
    edit_samples: int = 100,
    max_step: float = 5.0,
    truncation: float = 0.5,
    seed: int = 8,
    batch_size: int = 16,
    progress: Callable[[int], None] | None = None,
) -> ImportanceResult:
    """The released gradient-based importance (see the module docstring); deterministic for a seed."""
    space = _checked_space(LatentSpace.parse(space), random_samples, edit_samples, batch_size)
    pairs = _PairGradients(generator, space, truncation)
    n = _w_vector(direction, generator.num_ws).to(pairs.device)
    draws = _Draws.drawn(generator.z_dim, random_samples, edit_samples, max_step, seed)

    def random_batch(sl: slice) -> torch.Tensor:
        return pairs.grad_sum(pairs.mapped(draws.z_rand[0, sl]), pairs.mapped(draws.z_rand[1, sl]))

    def edit_batch(sl: slice) -> torch.Tensor:
        wp = _projected(pairs.mapped(draws.z_edit[sl]), direction, n)
        s1 = draws.steps[0, sl].to(pairs.device, torch.float32)[:, None, None]
        s2 = draws.steps[1, sl].to(pairs.device, torch.float32)[:, None, None]
        return pairs.grad_sum(wp + s1 * n[None], wp - s2 * n[None])

    random_grads = _batched_mean(random_batch, random_samples, batch_size, progress)
    edit_grads = _batched_mean(edit_batch, edit_samples, batch_size, progress)
    grads, total = _ratio(edit_grads, random_grads)
    layer_w, names = _layer_weights(generator, space, grads, total)
    settings: dict[str, Any] = {
        "random_samples": random_samples,
        "edit_samples": edit_samples,
        "max_step": max_step,
        "truncation": truncation,
        "seed": seed,
        "direction": direction.name,
        "generator": generator.fingerprint(),
        "layer_modules": module_map(generator),
    }
    return ImportanceResult(layer_w, grads / total, edit_grads, random_grads, names, space.value, settings)


def _checked_space(space: LatentSpace, random_samples: int, edit_samples: int, batch_size: int) -> LatentSpace:
    """The measured space, after refusing what the study cannot run (in one line, before any work)."""
    if space not in (LatentSpace.WPLUS, LatentSpace.S):
        raise UserInputError(
            f"importance is measured in W+ or S, not {space.value}",
            hint="the released W path is broken; use wplus (default) or s",
        )
    if random_samples < 1 or edit_samples < 1 or batch_size < 1:
        raise UserInputError("sample counts and batch size must be positive")
    return space


@dataclass(frozen=True)
class _Draws:
    """Every random number of the study, drawn up front on the CPU so results depend on neither batch size
    nor device."""

    z_rand: torch.Tensor  # [2, random_samples, z_dim]: the two sides of each random pair
    z_edit: torch.Tensor  # [edit_samples, z_dim]
    steps: torch.Tensor  # [2, edit_samples] float64: s1, s2 ~ U(max_step / 2, max_step)

    @classmethod
    def drawn(cls, z_dim: int, random_samples: int, edit_samples: int, max_step: float, seed: int) -> _Draws:
        rng = torch.Generator(device="cpu").manual_seed(int(seed))
        z_rand = torch.randn(2, random_samples, z_dim, generator=rng)
        z_edit = torch.randn(edit_samples, z_dim, generator=rng)
        steps = (0.5 + 0.5 * torch.rand(2, edit_samples, generator=rng, dtype=torch.float64)) * max_step
        return cls(z_rand, z_edit, steps)


class _PairGradients:
    """``sum_i |d L1(G(A_i), G(B_i)) / dA_i|`` over a batch of pairs, in W+ or in S, with the released truncation."""

    def __init__(self, generator: Generator, space: LatentSpace, truncation: float) -> None:
        self.generator, self.space, self.truncation = generator, space, truncation
        self.device = generator.device
        self.w_avg = generator.w_avg.detach().float().to(self.device)

    def mapped(self, z: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.generator.mapping(z.to(self.device))

    def _render(self, x: torch.Tensor) -> torch.Tensor:
        if self.space is LatentSpace.S:
            return self.generator.synthesis_from_styles(x)
        return self.generator.synthesis(self.w_avg.lerp(x, self.truncation))

    def _codes(self, ws: torch.Tensor) -> torch.Tensor:
        # truncation acts on ws before the affines, so for S we truncate first and differentiate the styles
        if self.space is LatentSpace.S:
            return self.generator.styles(self.w_avg.lerp(ws, self.truncation))
        return ws

    def grad_sum(self, a_ws: torch.Tensor, b_ws: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = self._render(self._codes(b_ws))
            src = self._codes(a_ws).detach()
        src.requires_grad_(True)
        img = self._render(src)
        # sum over pairs of each pair's mean |diff|: the gradient of pair i is exactly its own L1 gradient
        loss = (img - target).abs().flatten(1).mean(1).sum()
        (grad,) = torch.autograd.grad(loss, src)
        return grad.abs().double().sum(0).cpu()


def _projected(ws: torch.Tensor, direction: Direction, n: torch.Tensor) -> torch.Tensor:
    """``w_p = w - (w.n + b) n``: ``ws`` projected onto the direction's hyperplane (n as released, not
    renormalised); a tiled W direction projects the single w, as the released code does, then tiles."""
    b = float(direction.intercept)
    if direction.space is LatentSpace.W:
        dist = ws[:, 0] @ n[0] + b
        return ws - dist[:, None, None] * n[None]
    flat_n = n.reshape(-1)
    wf = ws.reshape(ws.shape[0], -1)
    dist = wf @ flat_n + b
    return (wf - dist[:, None] * flat_n[None]).reshape(ws.shape)


def _batched_mean(
    batch_grads: Callable[[slice], torch.Tensor],
    samples: int,
    batch_size: int,
    progress: Callable[[int], None] | None,
) -> np.ndarray:
    """The mean over ``samples`` pairs of per-batch gradient sums (pairs are independent, so batching is exact)."""
    acc: torch.Tensor | None = None
    for start in range(0, samples, batch_size):
        sl = slice(start, min(start + batch_size, samples))
        g = batch_grads(sl)
        acc = g if acc is None else acc + g
        if progress is not None:
            progress(sl.stop - sl.start)
    assert acc is not None
    return (acc / samples).numpy()


def _ratio(edit_grads: np.ndarray, random_grads: np.ndarray) -> tuple[np.ndarray, float]:
    """``g = E / R`` per channel and its sum (refused when the generator has no gradient at all)."""
    grads = edit_grads / np.maximum(random_grads, np.finfo(np.float64).tiny)
    total = float(grads.sum())
    if not np.isfinite(total) or total <= 0:
        raise UserInputError("the generator's gradients are all zero, so no importance can be measured")
    return grads, total


def _layer_weights(
    generator: Generator, space: LatentSpace, grads: np.ndarray, total: float
) -> tuple[np.ndarray, list[str]]:
    """Per-layer weights (mean channel ratio over the total, as released) and the layers' names."""
    if space is LatentSpace.S:
        spans = style_offsets(generator.style_layers)
        names = [layer.name for layer in generator.style_layers]
        return np.array([grads[a:c].mean() for a, c in spans]) / total, names
    return grads.mean(axis=1) / total, [f"w{i}" for i in range(generator.num_ws)]


def module_map(generator: Any) -> dict[int, list[str]]:
    """W+ row -> the generator modules it feeds (from the generator's style layers), for chart labels."""
    mapping: dict[int, list[str]] = {}
    for layer in getattr(generator, "style_layers", None) or ():
        mapping.setdefault(int(layer.w_index), []).append(layer.name)
    return mapping


def save_importance(result: ImportanceResult, out_dir: str | Any) -> list[Any]:
    """``layer_weights.txt`` (what ``--layer-weights`` reads), ``layer_weights.safetensors`` (one tensor),
    ``channel_weights.safetensors``, ``importance.json`` and ``importance.png``; each written atomically."""
    import json
    from pathlib import Path

    from large_toolkit.io.artifacts import save_tensors
    from large_toolkit.io.atomic import write_text_atomic
    from large_toolkit.regression.plots import bar_chart, layer_labels

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": "large-tk/layer-weights",
        "space": result.space,
        "layers": result.layer_names,
        **{k: v for k, v in result.settings.items() if isinstance(v, (int, float, str))},
    }
    paths = [
        out / "layer_weights.txt",
        out / "layer_weights.safetensors",
        out / "channel_weights.safetensors",
        out / "importance.json",
        out / "importance.png",
    ]
    write_text_atomic(paths[0], "".join(f"{v!r}\n" for v in result.layer_weights.tolist()))
    save_tensors(paths[1], {"layer_weights": torch.from_numpy(result.layer_weights.copy())}, meta)
    save_tensors(paths[2], {"channel_weights": torch.from_numpy(np.ascontiguousarray(result.channel_weights))}, meta)
    write_text_atomic(paths[3], json.dumps(result.to_dict(), indent=2) + "\n")
    modules = {int(k): v for k, v in (result.settings.get("layer_modules") or {}).items()}
    share = result.layer_weights / max(float(result.layer_weights.sum()), np.finfo(np.float64).tiny)
    bar_chart(
        paths[4],
        share,
        layer_labels(result.layer_names, modules),
        title=f"layer importance of {result.settings.get('direction')} ({result.space}, gradient study)",
        ylabel="share of the total importance",
        fmt="{:.1%}",
    )
    return paths


def layer_linearity(per_layer: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """R² (and signed Pearson r, slope) of the label against every layer's distance, vectorised over layers."""
    d = np.asarray(per_layer, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    if d.ndim != 2 or d.shape[0] != y.size:
        raise UserInputError(f"{d.shape[0] if d.ndim == 2 else '?'} distance rows for {y.size} labels")
    if y.size < 3:
        raise UserInputError(
            f"per-layer R² needs at least 3 labels, got {y.size}",
            hint="label more of the inverted images (--labels CSV rows whose ids are in --latents)",
        )
    if np.ptp(y) == 0:
        raise UserInputError(
            f"all {y.size} labels are {y[0]:g}, so per-layer R² is undefined",
            hint="label images with different values, or pick another --label-column",
        )
    dc = d - d.mean(0)
    yc = y - y.mean()
    sxx = (dc * dc).sum(0)
    syy = float(yc @ yc)
    sxy = dc.T @ yc
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where((sxx > 0) & (syy > 0), sxy / np.sqrt(sxx * syy), 0.0)
        slope = np.where(sxx > 0, sxy / sxx, 0.0)
    return {"r2": r * r, "r": r, "slope": slope}


def linearity_table(names: Sequence[str], lin: dict[str, np.ndarray]) -> list[tuple[str, str, str]]:
    """Rows ``(layer, R², r)`` for a printed table."""
    return [(n, f"{lin['r2'][i]:.3f}", f"{lin['r'][i]:+.3f}") for i, n in enumerate(names)]
