"""The ``voynov`` DirectionFinder: train, score, return the deformator's columns as W directions.

Options (``--option KEY=VALUE``; defaults in :meth:`VoynovFinder.default_config`):

* ``steps`` — training steps (the original runs 1e5 at batch 32; the default
  here is sized for a CPU run on a small generator, raise it for real models);
* ``directions`` — K, 0 = ``w_dim`` (the original's default);
* ``deformator`` — ``ortho`` | ``proj`` | ``linear``, ``random_init``
  (see :mod:`large_voynov.models`);
* ``layers`` — W+ slots the shift is added to (``all`` = the original's single
  W shift broadcast to every layer; ``0-3`` etc. restrict it);
* ``reconstructor`` — ``auto`` | ``lenet`` | ``resnet``, ``reconstructor_size``
  (0 = native resolution; e.g. 128 to make 1024 px affordable);
* ``shift_scale`` 6, ``min_shift`` 0.5, ``shift_distribution`` uniform,
  ``label_weight`` 1.0, ``shift_weight`` 0.25, ``lr_deformator`` /
  ``lr_reconstructor`` 1e-4, ``batch_size`` 32, ``psi`` 1.0 (no truncation),
  ``seed`` 2 — the original's values;
* ``checkpoint`` — a safetensors train-state path: resumed from when it
  exists, written every ``checkpoint_every`` steps and at the end;
* ``eval_per_direction`` — held-out samples per direction for the scores;
* ``export`` — also write the deformator as the original's
  ``deformator_*.pt`` state dict (``log_mat_half`` / ``linear.weight``).

Output: K unit W directions, index k = deformator column k (kept in column
order so indices match the exported deformator and human annotations of
it); sign as learned (the positive side is what the reconstructor reads as
eps > 0).  Scores are the reconstructor's held-out per-direction accuracy:
a direction the reconstructor cannot tell apart from the others is a weak,
probably entangled one.  Provenance records the column norm (``linear``) and
the trained bias, which ``linear`` adds to every shift.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from large_toolkit.api import (
    Direction,
    DirectionFinder,
    DirectionSet,
    Generator,
    LatentSpace,
    UserInputError,
    generator_meta,
    layer_indices,
    option,
)
from large_voynov.formats import voynov_matrix, write_voynov_state
from large_voynov.models import DEFORMATOR_TYPES
from large_voynov.trainer import VoynovTrainer


@dataclass(frozen=True)
class VoynovOptions:
    steps: int = option(1000, "training steps (the original runs 1e5 at batch 32)", low=0)
    directions: int = option(0, "K directions (0 = w_dim, the original's default)", low=0)
    deformator: str = option("ortho", "ortho, proj or linear", choices=DEFORMATOR_TYPES)
    random_init: bool = option(False, "random (not identity) deformator start")
    layers: str = option("all", "W+ slots the shift is added to: all, 0-3, ...")
    reconstructor: str = option("auto", "auto, lenet or resnet", choices=("auto", "lenet", "resnet"))
    reconstructor_size: int = option(0, "reconstructor input size (0 = native resolution)", low=0)
    batch_size: int = option(32, "training batch size", low=1)
    shift_scale: float = option(6.0, "largest shift magnitude", low=0)
    min_shift: float = option(0.5, "smallest shift magnitude", low=0)
    shift_distribution: str = option("uniform", "shift magnitude distribution")
    label_weight: float = option(1.0, "weight of the direction-classification loss", low=0)
    shift_weight: float = option(0.25, "weight of the shift-regression loss", low=0)
    lr_deformator: float = option(1e-4, "deformator learning rate", low=0)
    lr_reconstructor: float = option(1e-4, "reconstructor learning rate", low=0)
    psi: float = option(1.0, "truncation of the training samples (1 = none)")
    seed: int = option(2, "seed of every random step")
    checkpoint: str = option("", "train-state .safetensors: resumed when it exists, written periodically", path=True)
    checkpoint_every: int = option(200, "steps between checkpoints (0 = only at the end)", low=0)
    eval_per_direction: int = option(8, "held-out samples per direction for the scores", low=1)
    export: str = option("", "also write the original's deformator_*.pt here", path=True)


class VoynovFinder(DirectionFinder):
    """Unsupervised directions in W by training a deformator against a reconstructor."""

    space = LatentSpace.W
    Options = VoynovOptions

    def __init__(self) -> None:
        self.trainer: VoynovTrainer | None = None  # the last run's trainer (history, networks) for callers

    def _validate(self, generator: Generator, cfg: dict[str, Any]) -> tuple[list[int], int]:
        """What the declarations alone cannot check (choices and ranges are refused by ``merged``)."""
        if float(cfg["min_shift"]) > float(cfg["shift_scale"]):
            raise UserInputError("voynov needs min_shift <= shift_scale")
        count = int(cfg["directions"]) or generator.w_dim
        if not 0 < count <= generator.w_dim and cfg["deformator"] == "ortho":
            raise UserInputError(
                f"an orthonormal deformator has at most w_dim={generator.w_dim} directions, got {count}",
                hint="lower directions, or use deformator=proj/linear",
            )
        if count < 2:
            raise UserInputError("voynov needs at least 2 directions (the reconstructor classifies among them)")
        return layer_indices(cfg["layers"], generator.num_ws), count

    def find(self, generator: Generator, config: Mapping[str, Any] | None = None) -> DirectionSet:
        cfg = self.merged(config)
        slots, count = self._validate(generator, cfg)
        trainer = VoynovTrainer(generator, cfg, slots, count)
        self.trainer = trainer
        ckpt = str(cfg["checkpoint"] or "")
        resumed_from = 0
        if ckpt and Path(ckpt).is_file():
            trainer.load(ckpt)
            resumed_from = trainer.step
        t0 = time.perf_counter()
        trainer.train(int(cfg["steps"]), self.progress, ckpt or None, int(cfg["checkpoint_every"]))
        train_s = time.perf_counter() - t0
        scores = trainer.evaluate(int(cfg["eval_per_direction"]), self.progress)

        state = {k: v.detach().cpu() for k, v in trainer.deformator.state_dict().items()}
        if cfg["export"]:
            write_voynov_state(str(cfg["export"]), state)
        mat, bias = voynov_matrix(state)
        mat = mat[:, :count]
        norms = mat.norm(dim=0)
        if bool((norms == 0).any()):
            raise UserInputError("voynov: a deformator column collapsed to zero; train with other options")
        unit = (mat / norms).T.float().contiguous()  # [K, D] rows
        return self._result(generator, cfg, slots, unit, norms, bias, scores, trainer, resumed_from, train_s)

    def _result(
        self,
        generator: Generator,
        cfg: dict[str, Any],
        slots: list[int],
        unit: torch.Tensor,
        norms: torch.Tensor,
        bias: torch.Tensor | None,
        scores: dict[str, torch.Tensor],
        trainer: VoynovTrainer,
        resumed_from: int,
        train_s: float,
    ) -> DirectionSet:
        mask = torch.zeros(generator.num_ws, dtype=torch.bool)
        mask[slots] = True
        fingerprint = generator.fingerprint()
        prov_cfg = {k: (str(v) if not isinstance(v, (int, float, bool)) else v) for k, v in cfg.items()}
        acc, mae = scores["accuracy"], scores["shift_mae"]
        directions = []
        for k in range(unit.shape[0]):
            prov: dict[str, Any] = {
                "finder": "voynov",
                "index": k,
                "config": prov_cfg,
                "generator": fingerprint,
                "scale": "unit",
                "shift_scale": float(cfg["shift_scale"]),
                "column_norm": float(norms[k]),
                "accuracy": float(acc[k]),
                "shift_mae": float(mae[k]),
            }
            directions.append(Direction(unit[k], LatentSpace.W, f"voynov_{k}", 0.0, mask.clone(), None, prov))
        tail = trainer.history[-min(50, len(trainer.history)) :] if trainer.history else []
        meta: dict[str, Any] = {
            "finder": "voynov",
            "config": prov_cfg,
            "layers": slots,
            "generator": generator_meta(generator),
            "truncation_policy": "before_edit",
            "steps": trainer.step,
            "resumed_from": resumed_from,
            "train_seconds": train_s,
            "eval_accuracy": float(acc.mean()),
            "eval_shift_mae": float(mae.mean()),
            "train_loss_tail": sum(r[0] for r in tail) / len(tail) if tail else None,
            "train_accuracy_tail": sum(r[3] for r in tail) / len(tail) if tail else None,
            "shift_mae": mae.tolist(),
        }
        if bias is not None:
            meta["bias"] = bias.float().tolist()
        return DirectionSet(directions, acc.clone(), "accuracy", meta)
