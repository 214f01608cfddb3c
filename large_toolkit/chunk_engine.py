"""Seeded, chunked sampling jobs that run the same locally or on Ray (``engine=local|ray``).

Why chunks with their own seeds: a sampling job (GANSpace's W covariance, InterFaceGAN's
sample-and-score) is cut into fixed chunks *before* any scheduling, and chunk ``k`` draws its z from
a generator seeded by ``(seed, k)`` alone.  The samples therefore depend only on
``(seed, num_samples, chunk size)`` -- never on how many workers ran them or which worker got which
chunk -- and the driver consumes the per-chunk results in chunk order, so reductions (float64 sums)
happen in the same order too.  A Ray run with any number of workers then equals the local run up to
the float behaviour of the per-chunk kernels, which is bit-identical on one CPU build.

Why a picklable recipe: Ray workers rebuild the generator once each through the registry
(:class:`GeneratorSpec`: backend name + checkpoint path) instead of receiving model objects per task.
:func:`large_toolkit.plugins.load_generator` attaches the recipe to every generator it builds; a
generator made some other way (a test fixture, a hand-built model) is shipped once through Ray's
object store instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from large_toolkit.errors import UserInputError
from large_toolkit.interfaces import Generator

RECIPE_ATTR = "_large_tk_recipe"
EXECUTION_OPTIONS = ("engine", "ray_address", "ray_workers")  # change how, never what, is computed
RETRIES = 3

ChunkFn = Callable[[Generator, Any], Any]


@dataclass(frozen=True)
class GeneratorSpec:
    """How to rebuild a generator in another process: registry backend name + checkpoint (plain data), and the
    class a conditional model is bound to (``--class-idx``)."""

    backend: str
    checkpoint: str | None = None
    class_idx: int | None = None

    def load(self, device: str) -> Generator:
        from large_toolkit.conditional import bind_class
        from large_toolkit.plugins import load_generator

        return bind_class(load_generator(self.backend, self.checkpoint, device), self.class_idx)


def attach_recipe(generator: Any, spec: GeneratorSpec) -> None:
    """Remember how ``generator`` was built (best effort: a slotted class simply keeps no recipe)."""
    with contextlib.suppress(AttributeError, TypeError):
        setattr(generator, RECIPE_ATTR, spec)


def generator_recipe(generator: Generator) -> GeneratorSpec | None:
    """The recipe :func:`attach_recipe` stored, or None for a generator built outside the registry."""
    spec = getattr(generator, RECIPE_ATTR, None)
    return spec if isinstance(spec, GeneratorSpec) else None


def chunk_ranges(n: int, size: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of each chunk; the decomposition is fixed by (n, size) alone."""
    if size < 1:
        raise UserInputError(f"chunk size must be >= 1, got {size}")
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def chunk_seed(seed: int, k: int) -> int:
    """A well-mixed 63-bit seed for chunk ``k`` (``SeedSequence``: no overlap between nearby seeds)."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(seed) >> 32 & 0xFFFFFFFF, int(k)])
    return int(state.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def chunk_z(z_dim: int, n: int, seed: int, k: int) -> torch.Tensor:
    """Chunk ``k``'s ``[n, z_dim]`` z, drawn on the CPU so the samples do not depend on the device."""
    rng = torch.Generator(device="cpu").manual_seed(chunk_seed(seed, k))
    return torch.randn(n, z_dim, generator=rng)


@dataclass(frozen=True)
class EngineOptions:
    """Where chunks run: ``local`` (this process) or ``ray`` (cluster ``address``, ``workers`` actors)."""

    engine: str = "local"
    address: str | None = None
    workers: int | None = None
    threads_per_worker: int = 1

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> EngineOptions:
        """Parse the finder options ``engine``, ``ray_address``, ``ray_workers`` (CLI strings welcome)."""
        engine = str(cfg.get("engine") or "local").lower()
        if engine not in ("local", "ray"):
            raise UserInputError(f"unknown engine {engine!r}", hint="use engine=local or engine=ray")
        workers = cfg.get("ray_workers")
        workers = None if workers in (None, "", "auto") else int(workers)
        if workers is not None and workers < 1:
            raise UserInputError(f"ray_workers must be >= 1, got {workers}")
        address = cfg.get("ray_address")
        return cls(engine, str(address) if address else None, workers)


class _ChunkWorker:
    """Ray actor body: builds the generator once, then runs chunk functions on it."""

    def __init__(self, source: Any, device: str, threads: int) -> None:
        torch.set_num_threads(max(1, threads))
        if isinstance(source, GeneratorSpec):
            self.generator = source.load(device)
        else:  # a generator shipped through the object store (already materialised by Ray)
            self.generator = source.to(device)

    def run(self, fn: ChunkFn, task: Any) -> Any:
        return fn(self.generator, task)


def run_chunks(
    generator: Generator, fn: ChunkFn, tasks: Sequence[Any], options: EngineOptions | None = None
) -> Iterator[Any]:
    """``fn(generator, task)`` for every task, yielded in task order, locally or on Ray.

    ``fn`` must be a module-level function (picklable by reference) and every task plain data.
    On Ray, ``workers`` actors (default: the cluster's CPUs, or one per GPU for a CUDA generator)
    each load the generator once; chunks are handed out as actors free up, and an actor that dies is
    restarted and its chunk retried (bounded), so each chunk's result is used exactly once.
    """
    options = options or EngineOptions()
    if options.engine == "local":
        for task in tasks:
            yield fn(generator, task)
        return
    yield from _run_on_ray(generator, fn, list(tasks), options)


def _run_on_ray(generator: Generator, fn: ChunkFn, tasks: list[Any], options: EngineOptions) -> Iterator[Any]:
    from large_toolkit.ray_support import connect, require_ray

    ray = require_ray("engine=ray", data=False)
    if not tasks:
        return
    started = connect(options.address, what="engine=ray", data=False)
    try:
        from ray.util import ActorPool

        gpu = generator.device.type == "cuda"
        if options.workers is not None:
            workers = options.workers
        elif gpu:
            workers = int(ray.cluster_resources().get("GPU", 0))
            if workers < 1:
                raise UserInputError("a CUDA generator with engine=ray, but the Ray cluster has no GPU")
        else:
            workers = max(1, int(ray.cluster_resources().get("CPU", 1)) // options.threads_per_worker)
        workers = min(workers, len(tasks))
        recipe = generator_recipe(generator)
        source = recipe if recipe is not None else ray.put(generator)
        actor_cls = ray.remote(
            num_cpus=0 if gpu else options.threads_per_worker,
            num_gpus=1 if gpu else 0,
            max_restarts=RETRIES,
            max_task_retries=RETRIES,
        )(_ChunkWorker)
        device = "cuda" if gpu else "cpu"
        actors = [actor_cls.remote(source, device, options.threads_per_worker) for _ in range(workers)]
        pool = ActorPool(actors)
        try:
            # ``ActorPool.map`` yields in submission order: reductions see chunk order whatever finishes first.
            yield from pool.map(lambda actor, task: actor.run.remote(fn, task), tasks)
        finally:
            for actor in actors:
                ray.kill(actor)
    finally:
        if started:
            ray.shutdown()
