"""torch.distributed plumbing for training under ``torchrun`` (no model code, no new dependency).

Why a core module: ``large-tk train`` and ``large-tk train-encoder`` both need the same few things
when started by ``torchrun --nproc_per_node N``: join the process group (nccl on CUDA, gloo on CPU),
pick this rank's device, shard each global batch across ranks, average gradients, and let only
rank 0 log, draw progress and write checkpoints.  Outside torchrun (no ``WORLD_SIZE`` in the
environment) everything here is a no-op, so single-process runs are unchanged bit for bit.

Sharding rule: every rank draws the *global* batch's random numbers (z, mixing choices, real-image
indices) from the same seeded generator and keeps its contiguous block of rows.  Drawing a few
hundred normals per step is negligible next to synthesis, and it makes an N-process run see exactly
the samples of the 1-process run with the same global batch: the runs then differ only in float
summation order (the gradient average), which is what lets a test compare them tightly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: rank, world size, local rank and the device it should use."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")  # noqa: RUF009 (immutable)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only rank 0 logs, shows progress and writes files (no N-way races on one path)."""
        return self.rank == 0

    def rows(self, global_batch: int) -> slice:
        """This rank's contiguous block of a global batch; the batch must split evenly."""
        if global_batch % self.world_size:
            from large_toolkit.errors import UserInputError

            raise UserInputError(
                f"the batch ({global_batch}) must be divisible by the number of processes ({self.world_size})",
                hint="pass a global batch that is a multiple of --nproc_per_node x --nnodes",
            )
        per = global_batch // self.world_size
        return slice(self.rank * per, (self.rank + 1) * per)

    def rank_seed(self, seed: int) -> int:
        """A deterministic, distinct seed per rank for randomness that is *not* shared (e.g. noise)."""
        return int(seed) + 1_000_003 * self.rank


def init_distributed(device: torch.device | str = "cpu") -> DistContext:
    """Join the torchrun process group when launched by torchrun, else return a 1-process context.

    The backend follows the device: nccl for CUDA, gloo for CPU.  A CUDA rank uses ``cuda:LOCAL_RANK``.
    """
    device = torch.device(device)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext(device=device)
    import torch.distributed as dist

    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return DistContext(rank, world, local_rank, device)


def shutdown(ctx: DistContext) -> None:
    if ctx.enabled:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


def average_gradients(ctx: DistContext, params: Iterable[torch.Tensor]) -> None:
    """All-reduce and average ``.grad`` of ``params`` across ranks, as DDP does, in one flat buffer.

    Used for the StyleGAN2 trainer, whose weights live in plain dicts rather than an ``nn.Module``:
    wrapping it in DDP would mean restructuring the networks, while averaging after ``backward()``
    and before ``step()`` gives the same update (DDP only adds overlap of communication with backward).
    """
    if not ctx.enabled:
        return
    import torch.distributed as dist

    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= ctx.world_size
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset : offset + n].view_as(g))
        offset += n


def average_scalars(ctx: DistContext, values: dict[str, float]) -> dict[str, float]:
    """Mean of per-rank scalars (losses of each rank's slice) so rank 0 logs global-batch numbers."""
    if not ctx.enabled or not values:
        return values
    import torch.distributed as dist

    keys = sorted(values)
    t = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t)
    t /= ctx.world_size
    return dict(zip(keys, t.tolist(), strict=True))
