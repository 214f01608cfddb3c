"""``large-tk invert --engine ray``: the same chunks as the local engine, computed by a Ray Data pipeline.

Why Ray Data and why this shape:

* Inversion is embarrassingly parallel; Ray Data streams the work, overlaps CPU decoding with model
  work, keeps one model replica resident per actor and retries lost work.  We do not write our own
  scheduler.
* One Ray row is one *chunk* of the local engine (the same row indices, the same order inside the
  chunk), not one image.  The encoder's forward pass then sees exactly the batch the local engine
  feeds it, so the latents are bit-identical on CPU; a pipeline of single images re-batched by Ray
  could group images differently and change low-order bits.
* Pipeline: chunk rows (paths) -> ``map`` (decode + validate PNGs, Ray tasks) -> ``map_batches``
  with the callable class :class:`InvertActor` (loads generator + inverter once per actor; N CPU
  actors or one per GPU) -> results stream back to the driver, which alone writes the chunk files
  through :func:`large_inverters.job.run_job`.  Resume, ``--shard``, the report and the merge are
  therefore untouched, and a chunk that Ray recomputes after a crash lands in the same file name
  (idempotent); the driver also drops a duplicate result if one ever arrives.
* Faults: actors are created with bounded ``max_restarts`` / ``max_task_retries`` so a worker killed
  mid-run is replaced and its chunk retried; a systematically crashing worker still ends the run.
* Workers read the image files themselves, so on a multi-node cluster the inputs must be on storage
  every node sees (the usual NFS/object-store mount); outputs travel back to the driver.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from large_inverters.job import ChunkEngine, ChunkResult, InvertJob, invert_chunk
from large_inverters.spec import ModelSpec
from large_toolkit.api import LatentSpace, UserInputError, require_ray
from large_toolkit.api import ray_connect as connect

CRASH_ENV = "LARGE_TK_RAY_CRASH"  # test hook: "K:MARKER" makes one actor os._exit on its K-th chunk, once


@dataclass(frozen=True)
class RayOptions:
    """How to run on Ray: cluster address, number of actors, device per actor, threads per CPU actor."""

    address: str | None = None
    workers: int | None = None
    device: str = "cpu"
    threads_per_worker: int = 1
    crash: str | None = None  # CRASH_ENV's value, read on the driver and handed to the actors
    precision: str = "fp32"  # the driver's --precision: actors are other processes and do not share its global

    def actors(self, ray: Any) -> int:
        """N CPU actors (default 2), or one per GPU in the cluster unless ``workers`` says otherwise."""
        if self.workers is not None:
            if self.workers < 1:
                raise UserInputError(f"--ray-workers must be >= 1, got {self.workers}")
            return self.workers
        if self.device.startswith("cuda"):
            gpus = int(ray.cluster_resources().get("GPU", 0))
            if gpus < 1:
                raise UserInputError("--device cuda with --engine ray, but the Ray cluster has no GPU")
            return gpus
        return 2


ACTOR_RESTARTS = 3


def _pool(ray: Any, strategy: str, size: int) -> dict[str, Any]:
    """``compute=<Strategy>(size=N)`` where this Ray has it (``concurrency=`` is deprecated since 2.51)."""
    cls = getattr(ray.data, strategy, None)
    return {"compute": cls(size=size)} if cls is not None else {"concurrency": size}


def _actor_fault_args() -> dict[str, int]:
    """Bounded restarts/retries for the inverter actors (Ray Data's default is unbounded: a worker that
    crashes on every chunk would loop forever).  Passed as ``ray_remote_args_fn`` because plain
    ``**ray_remote_args`` is deprecated in Ray Data."""
    return {"max_restarts": ACTOR_RESTARTS, "max_task_retries": ACTOR_RESTARTS}


def _decode_chunk(row: dict[str, Any], resolution: int, resize: str) -> dict[str, Any]:
    """Ray task: read and validate one chunk's PNGs into a float32 ``[B, 3, R, R]`` array."""
    from large_inverters.images import load_batch

    images = load_batch([Path(p) for p in row["paths"]], resolution, resize)
    return {"start": int(row["start"]), "images": images.numpy()}


class InvertActor:
    """Ray Data callable class: generator + inverter are built once per actor, then reused per chunk."""

    def __init__(
        self, spec: ModelSpec, space: str, device: str, threads: int, crash: str | None = None, precision: str = "fp32"
    ) -> None:
        torch.set_num_threads(max(1, threads))
        self.precision = precision
        self.space = LatentSpace.parse(space)
        self.generator, self.inverter = spec.build(device)
        self.calls = 0
        self.crash = crash

    def _maybe_crash(self) -> None:
        """Fault-injection for tests: die hard on the K-th chunk, once per marker file (atomic create)."""
        if not self.crash:
            return
        k_text, _, marker = self.crash.partition(":")
        if self.calls != int(k_text):
            return
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.close(fd)
        os._exit(1)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out: dict[str, list[Any]] = {"start": [], "latents": [], "mse": [], "ssim": [], "loss": [], "meta": []}
        for start, images in zip(batch["start"], batch["images"], strict=True):
            self.calls += 1
            self._maybe_crash()
            x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
            tensors, meta = invert_chunk(self.inverter, self.generator, self.space, x, self.precision)
            out["start"].append(int(start))
            for name in ("latents", "mse", "ssim"):
                out[name].append(tensors[name].numpy())
            # An empty array stands for "no loss" so every row has the same columns.
            out["loss"].append(tensors["loss"].numpy() if "loss" in tensors else np.zeros(0, np.float32))
            out["meta"].append(json.dumps(meta))
        result: dict[str, Any] = {"start": np.asarray(out["start"], dtype=np.int64), "meta": np.asarray(out["meta"])}
        for name in ("latents", "mse", "ssim", "loss"):
            arrays = out[name]
            if len({a.shape for a in arrays}) == 1:
                result[name] = np.stack(arrays)
            else:  # the short last chunk: a ragged column
                ragged = np.empty(len(arrays), dtype=object)
                ragged[:] = arrays
                result[name] = ragged
        return result


def ray_engine(spec: ModelSpec, options: RayOptions) -> ChunkEngine:
    """A :data:`~large_inverters.job.ChunkEngine` that runs the chunks on a Ray cluster."""

    def run(job: InvertJob, chunks: list[list[int]]) -> Iterator[ChunkResult]:
        if not chunks:
            return
        ray = require_ray()
        started = connect(options.address)
        try:
            yield from _run(ray, job, chunks)
        finally:
            if started:
                ray.shutdown()

    def _run(ray: Any, job: InvertJob, chunks: list[list[int]]) -> Iterator[ChunkResult]:
        by_start = {rows[0]: rows for rows in chunks}
        items = [{"start": rows[0], "paths": [str(job.paths[i]) for i in rows]} for rows in chunks]
        actors = options.actors(ray)
        gpu = options.device.startswith("cuda")
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ds = ray.data.from_items(items, override_num_blocks=len(items))
        # Decoding reserves no CPU slot: with N single-CPU actors on an N-CPU cluster, 1-CPU decode tasks
        # could never be scheduled (a deadlock we hit); decoding a PNG chunk is light next to the model,
        # and Ray Data's backpressure bounds how many decode tasks run ahead.
        ds = ds.map(
            _decode_chunk,
            fn_kwargs={"resolution": job.generator.resolution, "resize": job.resize},
            num_cpus=0,
            # Without a cap, 0-CPU tasks start one Python worker each (measured: 28 on 2 cores, 6x slower).
            **_pool(ray, "TaskPoolStrategy", actors),
        )
        ds = ds.map_batches(
            InvertActor,
            fn_constructor_args=(
                spec,
                job.space.value,
                "cuda" if gpu else "cpu",
                options.threads_per_worker,
                options.crash,
                options.precision,
            ),
            batch_size=1,
            batch_format="numpy",
            **_pool(ray, "ActorPoolStrategy", actors),
            num_gpus=1 if gpu else None,
            num_cpus=None if gpu else options.threads_per_worker,
            ray_remote_args_fn=_actor_fault_args,
        )
        seen: set[int] = set()
        for row in ds.iter_rows():
            start = int(row["start"])
            if start in seen:
                continue  # a retried chunk reported twice: the file is the same, keep one
            seen.add(start)
            tensors = {
                name: torch.from_numpy(np.array(row[name], dtype=np.float32))
                for name in ("latents", "mse", "ssim", "loss")
            }
            if tensors["loss"].numel() == 0:
                del tensors["loss"]
            yield by_start[start], tensors, json.loads(str(row["meta"]))

    return run


def crash_from_env() -> str | None:
    """The fault-injection setting, read once on the driver (actors do not see the driver's env)."""
    return os.environ.get(CRASH_ENV) or None
