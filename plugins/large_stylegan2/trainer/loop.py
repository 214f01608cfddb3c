"""The StyleGAN2 training loop: non-saturating logistic loss, lazy R1, G EMA, style mixing.

Follows the published recipe (Karras et al. 2020; stylegan2-ada-pytorch's defaults for small data):
Adam(lr 0.0025, betas (0, 0.99)), lazy R1 every 16 D steps with the learning rate and betas
corrected by 16/17, EMA of G with half-life ``ema_kimg`` (ramped up over the first 5% of images),
style mixing with probability 0.9, and W-average tracking with beta 0.995.  Path-length
regularisation is left out: it matters for perceptual smoothness at high resolution and costs a
second backward pass; the demo's 32x32 models do not need it.

Determinism and resume: every step draws from ``torch.Generator(seed * 1_000_003 + step)``, and
the whole state (G, D, G_ema, both Adam states, counters) is saved as safetensors, so a resumed run
continues exactly where the saved one stopped -- including the ADA controller (p and its running
sign sums), the per-snapshot metrics and the class labels of a conditional run.

Small data: ``augment`` runs the ADA pipeline of :mod:`.augment` on every image D sees (reals and
fakes; R1 is taken with respect to the un-augmented reals, as NVIDIA does); ``mirror`` doubles the
dataset with x-flipped copies.  Conditional runs (``c_dim > 0``, ``labels`` given) feed the one-hot
class into G's mapping network (NVIDIA's ``mapping.embed``) and D's projection head; classes of the
fakes are drawn from the training labels, as NVIDIA's loop does.  Every snapshot appends FD against
the training set, losses and p to ``metrics.jsonl`` (:mod:`.metrics`).

Under ``torchrun`` (a :class:`~large_toolkit.distributed.DistContext` with world size > 1) each rank
computes its block of the global batch (z, mixing and real indices come from the shared per-step
generator, see :mod:`large_toolkit.distributed`), gradients are averaged with one ``all_reduce``
after ``backward()`` (what DDP does; the weights live in dicts, not an ``nn.Module``), the W average
is updated from the global batch mean, and only rank 0 writes snapshots.  Two things are per rank by
design, as in NVIDIA's own multi-GPU training: the synthesis noise (seeded per rank) and the
discriminator's minibatch-stddev groups (formed within a rank's block).  An N-rank run is therefore
statistically, not numerically, the same as a 1-rank run with the same global batch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from large_stylegan2.network import StyleGAN2Generator
from large_stylegan2.trainer import discriminator as D
from large_stylegan2.trainer import metrics as M
from large_stylegan2.trainer.augment import ADA_INTERVAL, AUGMENT_MODES, AdaState, augment, default_ada_kimg
from large_toolkit.api import (
    CheckpointError,
    DistContext,
    UserInputError,
    atomic_path,
    average_gradients,
    average_scalars,
    load_tensors,
    make_grid,
    save_tensors,
    to_uint8,
    write_image,
)

STATE_FORMAT = "large-tk/stylegan2-training-state"
G_BUFFERS = ("w_avg", "resample_filter", "noise_const")


@dataclass
class TrainOptions:
    """Every setting of a run; saved with the state so a resume uses the same ones."""

    resolution: int = 32
    z_dim: int = 64
    w_dim: int = 64
    mapping_layers: int = 2
    channel_base: int = 4096
    channel_max: int = 128
    batch: int = 32
    kimg: float = 100.0
    lr: float = 0.0025
    r1_gamma: float | None = None
    r1_interval: int = 16
    ema_kimg: float | None = None
    ema_rampup: float = 0.05
    mixing_prob: float = 0.9
    w_avg_beta: float = 0.995
    rotation_loss: bool = False
    rotation_weight_d: float = 1.0
    rotation_weight_g: float = 0.2
    seed: int = 0
    snapshot_kimg: float = 10.0
    augment: str = "none"
    augment_p: float = 0.0
    ada_target: float = 0.6
    ada_kimg: float | None = None
    cutout: bool = False
    mirror: bool = False
    c_dim: int = 0
    fd_n: int = 1000
    inception_weights: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.resolution < 8 or self.resolution & (self.resolution - 1):
            raise UserInputError(f"resolution must be a power of two >= 8, got {self.resolution}")
        if self.batch < 2:
            raise UserInputError("batch must be >= 2 (minibatch-stddev needs pairs)")
        if self.r1_gamma is None:  # NVIDIA's 'auto' heuristic
            self.r1_gamma = 0.0002 * self.resolution**2 / self.batch
        if self.ema_kimg is None:
            self.ema_kimg = self.batch * 10 / 32
        if self.augment not in AUGMENT_MODES:
            raise UserInputError(f"unknown --augment {self.augment!r}", hint=f"use {', '.join(AUGMENT_MODES)}")
        if not 0.0 <= self.augment_p <= 1.0:
            raise UserInputError(f"--augment-p must be in [0, 1], got {self.augment_p}")
        if self.augment == "fixed" and self.augment_p == 0.0:
            raise UserInputError("--augment fixed needs --augment-p > 0", hint="e.g. --augment-p 0.2, or --augment ada")
        if self.ada_kimg is None:
            self.ada_kimg = default_ada_kimg(self.kimg)


def _trainable(name: str) -> bool:
    return not any(name.endswith(b) for b in G_BUFFERS)


class Trainer:
    """Holds G, G_ema, D and the optimisers; :meth:`train` runs until ``kimg`` images were shown."""

    def __init__(
        self,
        images: torch.Tensor,
        options: TrainOptions,
        out_dir: Path,
        device: torch.device,
        dist: DistContext | None = None,
        labels: torch.Tensor | None = None,
    ) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3):
            raise UserInputError(f"training images must be uint8 [N, H, W, C], got {images.dtype} {list(images.shape)}")
        if images.shape[1] != options.resolution or images.shape[2] != options.resolution:
            raise UserInputError(
                f"training images are {images.shape[1]}x{images.shape[2]}, the run is set to {options.resolution}",
                hint="pass --resolution to match the data",
            )
        if (labels is None) != (options.c_dim == 0):
            raise UserInputError("a conditional run needs labels, an unconditional one none")
        if labels is not None and (labels.shape != (images.shape[0],) or int(labels.max()) >= options.c_dim):
            raise UserInputError(f"labels must be {images.shape[0]} class indices below {options.c_dim}")
        self.opts, self.out_dir, self.device = options, out_dir, device
        self.dist = dist or DistContext(device=torch.device(device))
        self.rows = self.dist.rows(options.batch) if self.dist.enabled else slice(None)
        self.fd_images = images.numpy()  # the training set as given (FD reference, extractor key)
        self.labels = None if labels is None else labels.long()
        if options.mirror:  # x-flip dataset doubling: image i + N is image i mirrored
            images = torch.cat([images, images.flip(2)])
            self.labels = None if self.labels is None else torch.cat([self.labels, self.labels])
        self.images = images.permute(0, 3, 1, 2).contiguous()  # uint8 NCHW, moved per batch
        o = options
        self.G = StyleGAN2Generator.random(
            o.resolution,
            o.z_dim,
            o.w_dim,
            o.channel_base,
            o.channel_max,
            o.mapping_layers,
            c_dim=o.c_dim,
            seed=o.seed,
            device=device,
        )
        self.G_ema = StyleGAN2Generator(self.G.params, self.G.config, device)
        self.D = {
            k: v.to(device)
            for k, v in D.init_discriminator(
                o.resolution, o.channel_base, o.channel_max, images.shape[-1], o.rotation_loss, o.seed + 1, o.c_dim
            ).items()
        }
        for k in list(self.G.params):
            if _trainable(k):
                self.G.params[k] = self.G.params[k].clone().requires_grad_(True)
        for k in self.D:
            self.D[k].requires_grad_(True)
        c = o.r1_interval / (o.r1_interval + 1)
        self.opt_G = torch.optim.Adam(self._g_params(), lr=o.lr, betas=(0.0, 0.99), eps=1e-8)
        self.opt_D = torch.optim.Adam(list(self.D.values()), lr=o.lr * c, betas=(0.0, 0.99**c), eps=1e-8)
        self.step, self.nimg = 0, 0
        self.history: list[dict[str, float]] = []
        self.ada = AdaState(p=o.augment_p) if o.augment != "none" else None
        self.train_seconds = 0.0
        self._since_snapshot: dict[str, float] = {}
        self._fd: M.SnapshotFD | None = None
        self._started = False

    def _g_params(self) -> list[torch.Tensor]:
        return [v for k, v in sorted(self.G.params.items()) if _trainable(k)]

    # -- one step ---------------------------------------------------------------------------------

    def _onehot(self, idx: torch.Tensor) -> torch.Tensor | None:
        if self.labels is None:
            return None
        return F.one_hot(self.labels[idx], self.opts.c_dim).float().to(self.device)

    def _gen(self, n: int, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Fakes for this rank's rows of a global batch of ``n`` (all of it outside torchrun), their ws and classes.

        A conditional run draws the fakes' classes from the training labels (NVIDIA's rule), so G sees
        the classes in the data's proportions.
        """
        z = torch.randn(n, self.opts.z_dim, generator=rng)[self.rows].to(self.device)
        c = None
        if self.labels is not None:
            c = self._onehot(torch.randint(0, self.images.shape[0], (n,), generator=rng)[self.rows])
        ws = self.G.mapping(z, c)
        if self.opts.mixing_prob > 0 and float(torch.rand((), generator=rng)) < self.opts.mixing_prob:
            cut = int(torch.randint(1, self.G.num_ws, (), generator=rng))
            ws2 = self.G.mapping(torch.randn(n, self.opts.z_dim, generator=rng)[self.rows].to(self.device), c)
            ws = torch.cat([ws[:, :cut], ws2[:, cut:]], dim=1)
        return self.G.synthesis(ws, noise_mode="random"), ws, c

    def _reals(self, n: int, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        idx = torch.randint(0, self.images.shape[0], (n,), generator=rng)[self.rows]
        return self.images[idx].to(self.device, torch.float32) / 127.5 - 1.0, self._onehot(idx)

    @property
    def augment_p(self) -> float:
        return self.ada.p if self.ada is not None else 0.0

    def _d_logits(self, img: torch.Tensor, c: torch.Tensor | None, rng: torch.Generator) -> torch.Tensor:
        """D's logits on the augmented images (the pipeline is differentiable: G and R1 see through it)."""
        if self.augment_p > 0:
            img = augment(img, self.augment_p, rng, self.opts.cutout)
        return D.logits(self.D, img, c)

    def train_step(self) -> dict[str, float]:
        o = self.opts
        rng = torch.Generator().manual_seed(o.seed * 1_000_003 + self.step)
        torch.manual_seed(self.dist.rank_seed(o.seed * 1_000_003 + self.step))  # synthesis noise: per rank
        stats: dict[str, float] = {}

        # G: non-saturating logistic loss (+ rotation prediction on fakes)
        fake, ws, c_fake = self._gen(o.batch, rng)
        loss_g = F.softplus(-self._d_logits(fake, c_fake, rng)).mean()
        if o.rotation_loss:
            turned, labels = D.rotate_batch(fake, rng)
            loss_g = loss_g + o.rotation_weight_g * F.cross_entropy(D.rotation_logits(self.D, turned), labels)
        self.opt_G.zero_grad(set_to_none=True)
        loss_g.backward()
        average_gradients(self.dist, self._g_params())
        self.opt_G.step()
        stats["loss_G"] = float(loss_g.detach())
        with torch.no_grad():
            w_mean = ws[:, 0].detach().mean(0)
            if self.dist.enabled:  # the global batch's mean (equal blocks: mean of the rank means)
                from torch import distributed as tdist

                tdist.all_reduce(w_mean)
                w_mean /= self.dist.world_size
            self.G.params["mapping.w_avg"] = w_mean.lerp(self.G.params["mapping.w_avg"], o.w_avg_beta)

        # D: logistic loss on fakes and reals (+ rotation prediction on reals), lazy R1
        real, c_real = self._reals(o.batch, rng)
        with torch.no_grad():
            fake, _, c_fake = self._gen(o.batch, rng)
        do_r1 = o.r1_gamma > 0 and self.step % o.r1_interval == 0
        real.requires_grad_(do_r1)
        real_logits = self._d_logits(real, c_real, rng)
        loss_d = F.softplus(self._d_logits(fake, c_fake, rng)).mean() + F.softplus(-real_logits).mean()
        if o.rotation_loss:
            turned, labels = D.rotate_batch(real.detach(), rng)
            loss_d = loss_d + o.rotation_weight_d * F.cross_entropy(D.rotation_logits(self.D, turned), labels)
        if do_r1:
            (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
            r1 = grad.square().sum(dim=[1, 2, 3]).mean()
            loss_d = loss_d + r1 * (o.r1_gamma / 2) * o.r1_interval
            stats["r1"] = float(r1.detach())
        self.opt_D.zero_grad(set_to_none=True)
        loss_d.backward()
        average_gradients(self.dist, self.D.values())
        self.opt_D.step()
        stats["loss_D"] = float(loss_d.detach())

        self.nimg += o.batch
        self.step += 1
        self._update_ema()
        if self.ada is not None:
            stats["augment_p"] = self.ada.p
            if o.augment == "ada":
                self.ada.accumulate(real_logits)
                if self.step % ADA_INTERVAL == 0 and self.dist.enabled:  # r_t over the global batch
                    red = average_scalars(self.dist, {"s": self.ada.sign_sum, "c": float(self.ada.count)})
                    self.ada.sign_sum, self.ada.count = red["s"], round(red["c"])
                self.ada.maybe_update(self.step, o.batch, o.ada_target, float(o.ada_kimg or 1.0))
        return average_scalars(self.dist, stats)

    def _update_ema(self) -> None:
        o = self.opts
        ema_nimg = o.ema_kimg * 1000
        if o.ema_rampup:
            ema_nimg = min(ema_nimg, self.nimg * o.ema_rampup)
        beta = 0.5 ** (o.batch / max(ema_nimg, 1e-8))
        with torch.no_grad():
            for k, v in self.G.params.items():
                if _trainable(k):
                    self.G_ema.params[k] = v.detach().lerp(self.G_ema.params[k], beta)
                else:
                    self.G_ema.params[k] = v.detach().clone()
        self.G_ema._fingerprint_cache = None

    # -- loop, snapshots, resume --------------------------------------------------------------------

    def start_log(self) -> None:
        """Create the run folder and its logs now, so a user sees the run before the first snapshot."""
        if not self.dist.is_main or self._started:
            return
        self._started = True
        self.out_dir.mkdir(parents=True, exist_ok=True)
        M.truncate_metrics(self.out_dir, self.nimg)
        self._write_log()
        self.log_line(f"start at {self.nimg / 1000:g} kimg, training to {self.opts.kimg:g} kimg")

    def log_line(self, message: str) -> None:
        if self.dist.is_main:
            with (self.out_dir / "log.txt").open("a") as f:
                f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")

    def _write_log(self) -> None:
        with atomic_path(self.out_dir / "log.json") as tmp:
            tmp.write_text(json.dumps({"options": asdict(self.opts), "history": self.history}, indent=1))

    def train(self, progress: Callable[[int, int, dict[str, float]], None] | None = None) -> Path:
        total = int(self.opts.kimg * 1000)
        next_snap = (self.nimg // self._snap_every() + 1) * self._snap_every()
        self.start_log()
        start = time.perf_counter()
        while self.nimg < total:
            t0 = time.perf_counter()
            stats = self.train_step()
            self.train_seconds += time.perf_counter() - t0
            for k, v in stats.items():
                self._since_snapshot[k] = self._since_snapshot.get(k, 0.0) + v
            self._since_snapshot["steps"] = self._since_snapshot.get("steps", 0.0) + 1
            if self.step % 10 == 0 or self.nimg >= total:
                self.history.append({"step": self.step, "kimg": self.nimg / 1000, **stats})
            if progress is not None:
                progress(min(self.nimg, total), total, stats)
            if self.nimg >= next_snap and self.nimg < total:
                if self.dist.is_main:
                    self.save()
                self._since_snapshot = {}
                next_snap += self._snap_every()
        self.elapsed = time.perf_counter() - start
        self._check_in_sync()
        return self.save() if self.dist.is_main else self.out_dir / "G_ema.safetensors"

    def snapshot_metrics(self) -> dict[str, Any]:
        """The ``metrics.jsonl`` record of the current state: FD vs the training set, mean losses, p."""
        steps = self._since_snapshot.get("steps", 0.0)
        rec: dict[str, Any] = {"kimg": self.nimg / 1000, "step": self.step, "time_s": round(self.train_seconds, 3)}
        for k in ("loss_G", "loss_D", "r1"):
            if k in self._since_snapshot and steps:
                rec[k] = self._since_snapshot[k] / steps
        rec["augment_p"] = self.augment_p
        rec["ada_rt"] = self.ada.last_rt if self.ada is not None else None
        if self.opts.fd_n > 0:
            if self._fd is None:
                self._fd = M.SnapshotFD(self.fd_images, self.opts.fd_n, self.device, self.opts.inception_weights)
            weights = None if self.labels is None else np.bincount(self.labels.numpy(), minlength=self.opts.c_dim)
            rec["fd"] = self._fd(self.G_ema, weights)
            rec["fd_extractor"] = self._fd.extractor.name
            rec["fd_extractor_fingerprint"] = self._fd.fingerprint
            rec["fd_n"] = self.opts.fd_n
            rec["fd_n_real"] = self._fd.real.n
        return rec

    def _check_in_sync(self) -> None:
        """Ranks must hold identical weights (averaged gradients, same init); a drift is a bug, not noise."""
        if not self.dist.enabled:
            return
        from torch import distributed as tdist

        total = sum(float(v.detach().double().sum()) for v in (*self._g_params(), *self.D.values()))
        local = torch.tensor([total], dtype=torch.float64, device=self.device)
        low, high = local.clone(), local.clone()
        tdist.all_reduce(low, tdist.ReduceOp.MIN)
        tdist.all_reduce(high, tdist.ReduceOp.MAX)
        if float(high - low) != 0.0:
            raise RuntimeError(f"training ranks diverged: weight checksums differ by {float(high - low):.3g}")

    def _snap_every(self) -> int:
        return max(self.opts.batch, int(self.opts.snapshot_kimg * 1000))

    def save(self) -> Path:
        """Write ``G_ema.safetensors`` (loadable by ``--backend stylegan2``), the full state and a sample grid."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        g_path = self.out_dir / "G_ema.safetensors"
        self.G_ema.save_safetensors(g_path)
        tensors = {f"G.{k}": v.detach() for k, v in self.G.params.items()}
        tensors.update({f"G_ema.{k}": v for k, v in self.G_ema.params.items()})
        tensors.update({f"D.{k}": v.detach() for k, v in self.D.items()})
        for name, opt in (("opt_G", self.opt_G), ("opt_D", self.opt_D)):
            for i, p in enumerate(opt.param_groups[0]["params"]):
                st = opt.state.get(p)
                if st:
                    tensors[f"{name}.{i}.exp_avg"] = st["exp_avg"]
                    tensors[f"{name}.{i}.exp_avg_sq"] = st["exp_avg_sq"]
                    tensors[f"{name}.{i}.step"] = torch.as_tensor(st["step"], dtype=torch.float64).reshape(())
        if self.labels is not None:
            tensors["labels"] = self.labels[: self.fd_images.shape[0]].clone()
        meta = {
            "format": STATE_FORMAT,
            "options": asdict(self.opts),
            "step": self.step,
            "nimg": self.nimg,
            "train_seconds": self.train_seconds,
            "ada": None if self.ada is None else asdict(self.ada),
        }
        save_tensors(self.out_dir / "training-state.safetensors", tensors, meta)
        self._write_log()
        self.sample_grid(self.out_dir / f"samples-{self.nimg / 1000:010.3f}kimg.png")
        record = self.snapshot_metrics()
        M.append_metrics(self.out_dir, record)
        M.draw_chart(self.out_dir)
        fd = f", FD {record['fd']:.4g}" if "fd" in record else ""
        self.log_line(f"snapshot {record['kimg']:g} kimg, p {record['augment_p']:.3f}{fd}")
        return g_path

    def sample_grid(self, path: Path, rows: int = 8, seed: int = 123) -> None:
        """Fixed z (``seed``) every snapshot, so grids compare; a conditional run shows one class per row."""
        with torch.no_grad():
            z = torch.randn(rows * rows, self.opts.z_dim, generator=torch.Generator().manual_seed(seed)).to(self.device)
            c = None
            if self.opts.c_dim:
                c = F.one_hot((torch.arange(rows * rows) // rows) % self.opts.c_dim, self.opts.c_dim).float()
                c = c.to(self.device)
            img = self.G_ema.synthesis(self.G_ema.mapping(z, c), noise_mode="const")
        write_image(path, make_grid(to_uint8(img.cpu().numpy()), columns=rows))

    @classmethod
    def resume(
        cls,
        images: torch.Tensor,
        out_dir: Path,
        device: torch.device,
        kimg: float | None = None,
        dist: DistContext | None = None,
    ) -> Trainer:
        """Rebuild a trainer from ``out_dir/training-state.safetensors``; ``kimg`` may extend the run."""
        path = out_dir / "training-state.safetensors"
        if not path.is_file():
            raise UserInputError(f"nothing to resume: {path} does not exist", hint="start a run without --resume")
        tensors, meta = load_tensors(path, STATE_FORMAT)
        opts = TrainOptions(**meta["options"])
        if kimg is not None:
            opts.kimg = kimg
        labels = tensors.get("labels")
        tr = cls(images, opts, out_dir, device, dist, labels)
        try:
            for k in tr.G.params:
                tr.G.params[k] = tensors[f"G.{k}"].to(device).requires_grad_(_trainable(k))
                tr.G_ema.params[k] = tensors[f"G_ema.{k}"].to(device)
            for k in tr.D:
                tr.D[k] = tensors[f"D.{k}"].to(device).requires_grad_(True)
        except KeyError as exc:
            raise CheckpointError(f"{path} is incomplete: missing {exc}") from None
        c = opts.r1_interval / (opts.r1_interval + 1)
        tr.opt_G = torch.optim.Adam(tr._g_params(), lr=opts.lr, betas=(0.0, 0.99), eps=1e-8)
        tr.opt_D = torch.optim.Adam(list(tr.D.values()), lr=opts.lr * c, betas=(0.0, 0.99**c), eps=1e-8)
        for name, opt in (("opt_G", tr.opt_G), ("opt_D", tr.opt_D)):
            for i, p in enumerate(opt.param_groups[0]["params"]):
                if f"{name}.{i}.exp_avg" in tensors:
                    opt.state[p] = {
                        "step": tensors[f"{name}.{i}.step"].clone(),
                        "exp_avg": tensors[f"{name}.{i}.exp_avg"].to(device),
                        "exp_avg_sq": tensors[f"{name}.{i}.exp_avg_sq"].to(device),
                    }
        tr.step, tr.nimg = int(meta["step"]), int(meta["nimg"])
        tr.train_seconds = float(meta.get("train_seconds", 0.0))
        if meta.get("ada") is not None:
            tr.ada = AdaState(**meta["ada"])
        log = out_dir / "log.json"
        if log.is_file():
            tr.history = json.loads(log.read_text()).get("history", [])
        return tr
