"""Resumable, shardable batch inversion (the engine behind ``large-tk invert``).

Why it is built this way: inverting thousands of images can take hours, and a
killed process must not cost finished work or leave a corrupt file.  Work is
cut into chunks of ``batch_size`` images in a fixed order; each finished chunk
is written atomically to ``.<out>.parts/`` beside the output.  A re-run with
the same settings reads which ids are finished (from the chunk files
themselves, so there is no separate journal to fall out of sync), inverts only
the rest in the same chunking, and finally merges everything into one
``save_latents`` file with the image file names as ids.  The settings are
recorded in a manifest; resuming with different settings is refused, because
mixing latents from two inverters in one file would be silently wrong.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from large_inverters.images import DEFAULT_RESIZE, check_images, load_batch
from large_inverters.losses import pixel_mse, ssim
from large_toolkit.api import (
    Generator,
    Inverter,
    Latents,
    LatentSpace,
    StyleLayer,
    UserInputError,
    check_output_path,
    exclusive_output_lock,
    load_tensors,
    precision_autocast,
    save_latents,
    save_tensors,
    write_text_atomic,
)

CHUNK_FORMAT = "large-tk/inversion-chunk"
PREVIEW_COUNT = 8


@dataclass
class InvertJob:
    """Everything that defines one inversion run; ``key()`` decides whether a resume is allowed."""

    paths: list[Path]
    out: Path
    inverter: Inverter
    inverter_name: str
    generator: Generator
    space: LatentSpace
    batch_size: int = 16
    resize: str = DEFAULT_RESIZE
    shard: str = "0/1"
    report: bool = True
    progress: Callable[[int, int], None] | None = None
    note: Callable[[str], None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return [p.name for p in self.paths]

    @property
    def parts_dir(self) -> Path:
        return self.out.parent / f".{self.out.name}.parts"

    def key(self) -> dict[str, Any]:
        ids_hash = hashlib.sha256("\n".join(self.ids).encode()).hexdigest()[:16]
        return {
            "inverter": self.inverter_name,
            "inverter_fingerprint": self.inverter.fingerprint(),
            "generator": self.generator.fingerprint(),
            "space": self.space.value,
            "resize": self.resize,
            "shard": self.shard,
            "ids": ids_hash,
        }


ChunkResult = tuple[list[int], dict[str, torch.Tensor], dict[str, Any]]
"""(row indices into ``job.paths``, chunk tensors, chunk metadata without ids) for one finished chunk."""

ChunkEngine = Callable[["InvertJob", list[list[int]]], Iterator[ChunkResult]]
"""Computes the given chunks (lists of row indices) in any order, yielding each exactly once."""


def invert_chunk(
    inverter: Inverter, generator: Generator, space: LatentSpace, images: torch.Tensor, precision: str | None = None
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Invert one chunk and score its reconstruction: the unit of work every engine runs.

    Kept free of paths and files so that a remote worker (a Ray actor) runs exactly the code the
    local loop runs, which is what makes the engines' latents bit-identical on CPU.  ``precision``
    (default: the global ``--precision``) is explicit because a worker process does not share the
    driver's global.
    """
    with precision_autocast(generator.device, precision):
        result = inverter.invert(images, generator, space)
        recon = _decode(generator, result.latents).float()
    tensors = {
        "latents": result.latents.tensor.float(),
        "mse": pixel_mse(recon, images),
        "ssim": ssim(recon, images),
    }
    if result.losses is not None:
        tensors["loss"] = result.losses.float()
    layers = result.latents.style_layers
    meta = {
        "space": result.latents.space.value,
        "style_layers": [s.to_dict() for s in layers] if layers else None,
    }
    return tensors, meta


def local_engine(job: InvertJob, chunks: list[list[int]]) -> Iterator[ChunkResult]:
    """In-process engine: chunks in order, with the job's own generator and inverter."""
    for rows in chunks:
        images = load_batch([job.paths[i] for i in rows], job.generator.resolution, job.resize)
        tensors, meta = invert_chunk(job.inverter, job.generator, job.space, images)
        yield rows, tensors, meta


def _decode(generator: Generator, latents: Latents) -> torch.Tensor:
    with torch.no_grad():
        if latents.space is LatentSpace.S:
            return generator.synthesis_from_styles(latents.tensor.to(generator.device), noise_mode="const").cpu()
        ws = latents.to_wplus(generator.num_ws).tensor.to(generator.device)
        return generator.synthesis(ws, noise_mode="const").cpu()


def _read_chunks(parts: Path) -> dict[str, tuple[Path, int]]:
    """id -> (chunk file, row) for every complete chunk; leftover temp files of a killed run are removed."""
    done: dict[str, tuple[Path, int]] = {}
    for tmp in parts.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
    for chunk in sorted(parts.glob("chunk-*.safetensors")):
        _, meta = load_tensors(chunk, CHUNK_FORMAT)
        for row, image_id in enumerate(meta["ids"]):
            done[image_id] = (chunk, row)
    return done


_KEY_WORDS = {
    "inverter": "inverter",
    "inverter_fingerprint": "inverter settings/checkpoint: --steps, --lr, --inverter-option ...",
    "generator": "generator: --backend, --checkpoint, --class-idx",
    "space": "--space",
    "resize": "--resize",
    "shard": "--shard",
    "ids": "image list",
}


def changed_settings(saved: dict[str, Any], key: dict[str, Any]) -> str:
    """The settings that differ between two job keys, in the words of the command's options."""
    return "; ".join(_KEY_WORDS.get(k, k) for k in sorted(key) if saved.get(k) != key[k])


def _prepare(job: InvertJob, restart: bool) -> None:
    parts = job.parts_dir
    if restart and parts.exists():
        shutil.rmtree(parts)
    parts.mkdir(parents=True, exist_ok=True)
    manifest = parts / "manifest.json"
    key = job.key()
    if manifest.exists():
        saved = json.loads(manifest.read_text())
        if saved != key and not any(parts.glob("chunk-*.safetensors")):
            saved = key  # nothing was finished under the old settings, so nothing can be mixed
            write_text_atomic(manifest, json.dumps(key, indent=2, sort_keys=True))
        if saved != key:
            raise UserInputError(
                f"{parts} holds a partial run with different settings ({changed_settings(saved, key)})",
                hint="re-run with the original settings to resume, or pass --restart to discard it",
            )
    else:
        write_text_atomic(manifest, json.dumps(key, indent=2, sort_keys=True))


def run_job(job: InvertJob, restart: bool = False, engine: ChunkEngine | None = None) -> dict[str, Any]:
    """Invert every image not yet done, then merge; returns a summary (counts, timings, report paths).

    ``engine`` computes the chunks (default :func:`local_engine`); whatever it is, this function alone
    writes the chunk files, so resume, ``--shard``, the report and the merge are the same for every engine.
    One run per output at a time: a second run on the same ``--out`` is refused naming the first's pid.
    """
    if job.space not in job.inverter.output_spaces:
        names = ", ".join(s.value for s in job.inverter.output_spaces)
        raise UserInputError(
            f"inverter {job.inverter_name!r} cannot produce {job.space.value} codes", hint=f"use {names}"
        )
    check_output_path(job.out)
    with exclusive_output_lock(job.out, "invert run"):
        return _run_locked(job, restart, engine)


def _run_locked(job: InvertJob, restart: bool, engine: ChunkEngine | None) -> dict[str, Any]:
    # A finished output with its .parts/ still there means a kill between the final save and the
    # clean-up: fall through and re-merge from the chunks, which also writes the missing report.
    if not restart and job.out.is_file() and not job.parts_dir.exists():
        _, meta = load_tensors(job.out, "large-tk/latents")
        saved = meta.get("job_key")
        if saved == job.key():
            return {
                "out": str(job.out),
                "images": len(job.ids),
                "computed": 0,
                "resumed_skipped": len(job.ids),
                "already_complete": True,
            }
        if isinstance(saved, dict):  # a finished inversion made otherwise: overwriting it must be asked for
            raise UserInputError(
                f"{job.out} is a finished inversion made with different settings "
                f"({changed_settings(saved, job.key())})",
                hint="pass --restart to redo it with these settings, or choose another --out",
            )
    resize_note = check_images(job.paths, job.generator.resolution, job.resize)
    if resize_note is not None and job.note is not None:
        job.note(resize_note)
    _prepare(job, restart)
    parts = job.parts_dir
    done = _read_chunks(parts)
    ids = job.ids
    index = {image_id: i for i, image_id in enumerate(ids)}
    todo = [i for i, image_id in enumerate(ids) if image_id not in done]
    skipped = len(ids) - len(todo)
    start = time.perf_counter()
    chunks = [todo[k : k + job.batch_size] for k in range(0, len(todo), job.batch_size)]
    finished = skipped
    for rows, tensors, meta in (engine or local_engine)(job, chunks):
        meta = {"format": CHUNK_FORMAT, "ids": [ids[i] for i in rows], **meta}
        save_tensors(parts / f"chunk-{rows[0]:07d}.safetensors", tensors, meta)
        finished += len(rows)
        if job.progress is not None:
            job.progress(finished, len(ids))
    elapsed = time.perf_counter() - start
    return _merge(job, index, skipped, len(todo), elapsed)


def _merge(job: InvertJob, index: dict[str, int], skipped: int, computed: int, elapsed: float) -> dict[str, Any]:
    done = _read_chunks(job.parts_dir)
    missing = [i for i in index if i not in done]
    if missing:
        raise UserInputError(f"{len(missing)} images have no latent after the run (first: {missing[0]})")
    cache: dict[Path, tuple[dict[str, torch.Tensor], dict[str, Any]]] = {}
    rows: dict[str, list[torch.Tensor]] = {"latents": [], "mse": [], "ssim": [], "loss": []}
    layers: tuple[StyleLayer, ...] | None = None
    for image_id in job.ids:
        chunk, row = done[image_id]
        if chunk not in cache:
            cache[chunk] = load_tensors(chunk, CHUNK_FORMAT)
        tensors, meta = cache[chunk]
        if meta.get("style_layers"):
            layers = tuple(StyleLayer.from_dict(d) for d in meta["style_layers"])
        for name in rows:
            if name in tensors:
                rows[name].append(tensors[name][row])
    latents = Latents(torch.stack(rows["latents"]), job.space, layers)
    mse = torch.stack(rows["mse"])
    ssim_values = torch.stack(rows["ssim"])
    losses = torch.stack(rows["loss"]) if len(rows["loss"]) == len(job.ids) else None
    extra = {
        "inverter": job.inverter_name,
        "inverter_fingerprint": job.inverter.fingerprint(),
        "shard": job.shard,
        "resize": job.resize,
        "job_key": job.key(),
        **job.extra,
    }
    save_latents(job.out, latents, job.ids, job.generator, extra)
    summary: dict[str, Any] = {
        "out": str(job.out),
        "images": len(job.ids),
        "computed": computed,
        "resumed_skipped": skipped,
        "seconds": round(elapsed, 3),
        "mean_mse": float(mse.mean()),
        "mean_ssim": float(ssim_values.mean()),
    }
    if job.report:
        summary.update(_write_report(job, latents, mse, ssim_values, losses))
    shutil.rmtree(job.parts_dir, ignore_errors=True)
    return summary


def _write_report(
    job: InvertJob, latents: Latents, mse: torch.Tensor, ssim_values: torch.Tensor, losses: torch.Tensor | None
) -> dict[str, Any]:
    """Per-image MSE/SSIM (and final loss) as JSON, plus a preview grid: inputs on top, reconstructions below."""
    from large_toolkit.api import make_grid, to_uint8, write_image

    stem = job.out.with_suffix("")
    per_image = [
        {
            "id": image_id,
            "mse": float(mse[i]),
            "ssim": float(ssim_values[i]),
            **({"loss": float(losses[i])} if losses is not None else {}),
        }
        for i, image_id in enumerate(job.ids)
    ]
    report = {
        "inverter": job.inverter_name,
        "space": job.space.value,
        "mean_mse": float(mse.mean()),
        "mean_ssim": float(ssim_values.mean()),
        "images": per_image,
    }
    report_path = Path(f"{stem}.report.json")
    write_text_atomic(report_path, json.dumps(report, indent=1))
    n = min(PREVIEW_COUNT, len(job.ids))
    originals = load_batch(job.paths[:n], job.generator.resolution, job.resize)
    recon = _decode(job.generator, latents[:n])
    grid = make_grid(to_uint8(torch.cat([originals, recon]).numpy()), columns=n)
    preview_path = Path(f"{stem}.preview.png")
    write_image(preview_path, grid)
    return {"report": str(report_path), "preview": str(preview_path)}
