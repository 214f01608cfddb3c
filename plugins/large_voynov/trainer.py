"""Training loop, shift sampling, held-out scoring and resumable train state.

Why every draw is keyed by ``(seed, step)``: each step builds its own torch
RNG from ``SeedSequence([seed, tag, step])``, so a run resumed at step s
draws exactly what an uninterrupted run draws at step s, and the train state
needs no RNG snapshot.  Draws happen on the CPU and are moved to the device,
so a seed gives the same z, k and eps on CPU and CUDA.

One step, as the original (``trainer.py``): z ~ N(0, I); w = mapping(z)
(psi=1 by default, no truncation); k ~ U{0..K-1}; eps as :func:`sample_shifts`;
images ``G(w)`` and ``G(w + A(eps e_k))`` (the shift on the selected W+ slots,
all by default, which is the original's ``w_shift``); reconstructor on the pair;
``loss = label_weight·CE(logits, k) + shift_weight·mean|epŝ - eps|``
(1.0 and 0.25); one Adam step (lr 1e-4) on both networks.  Gradients flow
through the frozen generator into A; the unshifted image needs none, so it
is rendered under ``no_grad``.

Train state (``checkpoint=PATH``) is a large-tk safetensors artifact
(:func:`large_toolkit.io.artifacts.save_tensors`, format
``voynov-train-state``): both networks, both Adam states, the per-step loss
history and the config that shaped the run; resuming refuses a state made
with another generator or another training config.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from large_toolkit.api import (
    ArtifactMismatchError,
    Generator,
    ProgressFn,
    UserInputError,
    generator_meta,
    load_tensors,
    save_tensors,
)
from large_voynov.models import Deformator, make_reconstructor

STATE_FORMAT = "voynov-train-state"

# Options that do not change what a training step computes: they may differ between a run and its resume.
RUN_ONLY_KEYS = ("steps", "checkpoint", "checkpoint_every", "eval_per_direction", "export")

_TAG_TRAIN, _TAG_EVAL, _TAG_INIT = 1, 2, 3


def step_rng(seed: int, tag: int, step: int) -> torch.Generator:
    """A CPU torch RNG for one (seed, purpose, step): independent streams, no shared state."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(tag), int(step)]).generate_state(2, np.uint32)
    return torch.Generator(device="cpu").manual_seed((int(state[0]) << 31) ^ int(state[1]))


def sample_shifts(
    count: int,
    batch: int,
    rng: torch.Generator,
    scale: float = 6.0,
    min_shift: float = 0.5,
    distribution: str = "uniform",
) -> tuple[torch.Tensor, torch.Tensor]:
    """The original's ``make_shifts``: k ~ U{0..K-1}, eps = scale·U(-1, 1) (or scale·N(0, 1)).

    Magnitudes below ``min_shift`` are pushed out to ±min_shift keeping their
    sign, so no pair is (nearly) identical — an unlearnable sample.
    """
    index = torch.randint(0, count, (batch,), generator=rng)
    if distribution == "uniform":
        eps = scale * (2.0 * torch.rand(batch, generator=rng) - 1.0)
    elif distribution == "normal":
        eps = scale * torch.randn(batch, generator=rng)
    else:
        raise UserInputError(f"unknown shift distribution {distribution!r}", hint="use uniform or normal")
    small = eps.abs() < min_shift
    eps = torch.where(small, torch.where(eps < 0, -min_shift, min_shift), eps)
    return index, eps


def _latents(generator: Generator, batch: int, rng: torch.Generator, psi: float) -> torch.Tensor:
    """``[batch, num_ws, w_dim]`` on the generator's device, no grad (the mapping is frozen)."""
    z = torch.randn(batch, generator.z_dim, generator=rng)
    c = None
    if generator.c_dim:
        labels = torch.randint(0, generator.c_dim, (batch,), generator=rng)
        c = F.one_hot(labels, generator.c_dim).float().to(generator.device)
    with torch.no_grad():
        return generator.mapping(z.to(generator.device), c, psi=psi).float()


class VoynovTrainer:
    """Owns the deformator, the reconstructor, their optimizers and the step counter."""

    def __init__(self, generator: Generator, cfg: Mapping[str, Any], slots: list[int], count: int) -> None:
        self.generator, self.cfg, self.slots, self.count = generator, dict(cfg), list(slots), count
        self.device = generator.device
        seed = int(cfg["seed"])
        # Module init draws from torch's global RNG: fork it so seeding here leaves the caller's stream alone.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(step_rng(seed, _TAG_INIT, 0).initial_seed()))
            self.deformator = Deformator(generator.w_dim, count, str(cfg["deformator"]), bool(cfg["random_init"]))
            self.reconstructor = make_reconstructor(
                str(cfg["reconstructor"]),
                count,
                generator.img_channels,
                generator.resolution,
                int(cfg["reconstructor_size"]),
            )
        self.deformator.to(self.device)
        self.reconstructor.to(self.device)
        self.opt_d = torch.optim.Adam(self.deformator.parameters(), lr=float(cfg["lr_deformator"]))
        self.opt_r = torch.optim.Adam(self.reconstructor.parameters(), lr=float(cfg["lr_reconstructor"]))
        self.step = 0
        self.history: list[tuple[float, float, float, float]] = []  # loss, ce, l1, accuracy per step

    # -- one step ------------------------------------------------------------------------------

    def _render_pair(
        self, ws: torch.Tensor, index: torch.Tensor, eps: torch.Tensor, grad: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            img = self.generator.synthesis(ws)
        with contextlib.nullcontext() if grad else torch.no_grad():
            shift = self.deformator(index, eps)  # [N, D]
            shifted_ws = ws.clone()
            shifted_ws[:, self.slots] = shifted_ws[:, self.slots] + shift[:, None, :]
            shifted = self.generator.synthesis(shifted_ws)
        return img, shifted

    def _losses(
        self, logits: torch.Tensor, eps_hat: torch.Tensor, index: torch.Tensor, eps: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        ce = F.cross_entropy(logits, index)
        l1 = (eps_hat - eps).abs().mean()
        return float(self.cfg["label_weight"]) * ce + float(self.cfg["shift_weight"]) * l1, ce, l1

    def train_step(self) -> tuple[float, float, float, float]:
        """One optimisation step at ``self.step`` (draws keyed by it); returns loss, ce, l1, accuracy."""
        cfg = self.cfg
        rng = step_rng(int(cfg["seed"]), _TAG_TRAIN, self.step)
        batch = int(cfg["batch_size"])
        ws = _latents(self.generator, batch, rng, float(cfg["psi"]))
        index, eps = sample_shifts(
            self.count, batch, rng, float(cfg["shift_scale"]), float(cfg["min_shift"]), str(cfg["shift_distribution"])
        )
        index, eps = index.to(self.device), eps.to(self.device)
        self.deformator.train()
        self.reconstructor.train()
        self.opt_d.zero_grad(set_to_none=True)
        self.opt_r.zero_grad(set_to_none=True)
        img, shifted = self._render_pair(ws, index, eps, grad=True)
        logits, eps_hat = self.reconstructor(img, shifted)
        loss, ce, l1 = self._losses(logits, eps_hat, index, eps)
        loss.backward()
        self.opt_d.step()
        self.opt_r.step()
        acc = (logits.argmax(1) == index).float().mean()
        record = (float(loss.detach()), float(ce.detach()), float(l1.detach()), float(acc))
        self.history.append(record)
        self.step += 1
        return record

    def train(
        self,
        steps: int,
        progress: ProgressFn | None = None,
        checkpoint: str | Path | None = None,
        every: int = 0,
    ) -> None:
        """Train until ``self.step == steps``, saving the state every ``every`` steps and at the end."""
        start = self.step
        for _ in range(start, steps):
            self.train_step()
            if progress is not None:
                progress("Voynov training", self.step, steps)
            if checkpoint and every > 0 and self.step % every == 0 and self.step < steps:
                self.save(checkpoint)
        if checkpoint and self.step > start:
            self.save(checkpoint)

    # -- scoring -------------------------------------------------------------------------------

    def evaluate(self, per_direction: int, progress: ProgressFn | None = None) -> dict[str, torch.Tensor]:
        """Held-out, stratified: every direction ``per_direction`` times, fresh z and eps from the eval stream.

        Returns per-direction ``accuracy`` and ``shift_mae`` (float64 ``[K]``).
        """
        cfg = self.cfg
        rng = step_rng(int(cfg["seed"]), _TAG_EVAL, 0)
        total = self.count * per_direction
        index_all = torch.arange(self.count).repeat(per_direction)
        _, eps_all = sample_shifts(
            self.count, total, rng, float(cfg["shift_scale"]), float(cfg["min_shift"]), str(cfg["shift_distribution"])
        )
        correct = torch.zeros(self.count, dtype=torch.float64)
        abs_err = torch.zeros(self.count, dtype=torch.float64)
        self.deformator.eval()
        self.reconstructor.eval()
        batch = int(cfg["batch_size"])
        with torch.no_grad():
            for lo in range(0, total, batch):
                index = index_all[lo : lo + batch]
                eps = eps_all[lo : lo + batch]
                ws = _latents(self.generator, len(index), rng, float(cfg["psi"]))
                img, shifted = self._render_pair(ws, index.to(self.device), eps.to(self.device), grad=False)
                logits, eps_hat = self.reconstructor(img, shifted)
                hit = (logits.argmax(1).cpu() == index).double()
                correct.index_add_(0, index, hit)
                abs_err.index_add_(0, index, (eps_hat.cpu().double() - eps.double()).abs())
                if progress is not None:
                    progress("Voynov scoring", min(lo + batch, total), total)
        return {"accuracy": correct / per_direction, "shift_mae": abs_err / per_direction}

    # -- train state ---------------------------------------------------------------------------

    def _shaping_config(self) -> dict[str, Any]:
        return {k: v for k, v in sorted(self.cfg.items()) if k not in RUN_ONLY_KEYS}

    def save(self, path: str | Path) -> Path:
        """Write the full train state (networks, Adam moments, history) as a large-tk safetensors."""
        tensors: dict[str, torch.Tensor] = {}
        for prefix, module in (("deformator", self.deformator), ("reconstructor", self.reconstructor)):
            for key, value in module.state_dict().items():
                tensors[f"{prefix}.{key}"] = value
        for prefix, opt in (("opt_d", self.opt_d), ("opt_r", self.opt_r)):
            for pid, slots in opt.state_dict()["state"].items():
                for key, value in slots.items():
                    tensors[f"{prefix}.{pid}.{key}"] = torch.as_tensor(value)
        hist = torch.tensor(self.history, dtype=torch.float32).reshape(-1, 4)
        tensors["history"] = hist
        meta = {
            "format": STATE_FORMAT,
            "step": self.step,
            "count": self.count,
            "slots": self.slots,
            "config": self._shaping_config(),
            "generator": generator_meta(self.generator),
            "time": time.time(),
        }
        return save_tensors(path, tensors, meta)

    def load(self, path: str | Path) -> None:
        """Restore a state written by :meth:`save` for this generator and training config."""
        tensors, meta = load_tensors(path, STATE_FORMAT)
        fp = (meta.get("generator") or {}).get("fingerprint")
        if fp != self.generator.fingerprint():
            raise ArtifactMismatchError(
                f"{path}: Voynov train state belongs to generator {fp}, not {self.generator.fingerprint()}",
                hint="use another checkpoint path, or the generator it was trained with",
            )
        saved, now = meta.get("config") or {}, _jsonable(self._shaping_config())
        if saved != now or meta.get("count") != self.count or list(meta.get("slots") or []) != self.slots:
            diff = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
            raise ArtifactMismatchError(
                f"{path}: Voynov train state was made with other options ({', '.join(diff) or 'directions/layers'})",
                hint=f"resume with the same options (only {', '.join(RUN_ONLY_KEYS)} may change)",
            )
        for prefix, module in (("deformator", self.deformator), ("reconstructor", self.reconstructor)):
            sub = {k[len(prefix) + 1 :]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
            module.load_state_dict(sub)
        for prefix, opt in (("opt_d", self.opt_d), ("opt_r", self.opt_r)):
            state: dict[int, dict[str, torch.Tensor]] = {}
            for key, value in tensors.items():
                head, _, rest = key.partition(".")
                if head != prefix:
                    continue
                pid, _, name = rest.partition(".")
                state.setdefault(int(pid), {})[name] = value
            opt.load_state_dict({"state": state, "param_groups": opt.state_dict()["param_groups"]})
        self.step = int(meta["step"])
        self.history = [tuple(float(x) for x in row) for row in tensors["history"].tolist()]  # type: ignore[misc]


def _jsonable(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What a config looks like after a JSON round trip (tuples -> lists), for comparing with a saved one."""
    import json

    return json.loads(json.dumps(dict(obj), sort_keys=True, default=str))
