"""The jobs behind ``large-tk invert`` (options to a finished latent file) and ``large-tk train-encoder``.

Kept apart from the command so that the GUI (or a script) runs exactly what the CLI runs with its
own progress display: :func:`prepare_inversion` checks the request and loads the models (the slow,
failure-prone part, done before any progress display opens); :meth:`PreparedInversion.run` then
inverts, resumably, through :func:`large_inverters.job.run_job`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from large_toolkit.api import DEFAULT_RESIZE, UserInputError

if TYPE_CHECKING:  # the command imports this module to build its --help: keep torch out until a run starts
    from large_inverters.job import ChunkEngine
    from large_inverters.small_encoder import TrainConfig
    from large_toolkit.api import DistContext, Generator, Inverter

DEFAULT_BATCH = 64  # the batch regress inverts with
ENGINES = ("local", "ray")

Note = Callable[[str], None]


@dataclass(frozen=True)
class InvertRequest:
    """Everything ``large-tk invert`` was asked to do (field names are the command's parameter names)."""

    images: list[str]
    out: Path
    inverter: str = "auto"
    inverter_checkpoint: str | None = None
    backend: str | None = None
    checkpoint: str | None = None
    class_idx: int | None = None
    space: str = "wplus"
    batch_size: int = DEFAULT_BATCH
    shard: str | None = None
    resize: str = DEFAULT_RESIZE
    steps: int = 1000
    lr: float = 0.1
    seed: int = 303
    ssim_weight: float = 0.0
    lpips_vgg: str | None = None
    lpips_heads: str | None = None
    refine_steps: int = 0
    inverter_option: list[str] | None = None
    restart: bool = False
    no_report: bool = False
    engine: str = "local"
    ray_address: str | None = None
    ray_workers: int | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> InvertRequest:
        """The request from a command's parameters (those that are not request fields are left out)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in options.items() if k in names})

    def check(self) -> None:
        """One clear error for a bad --resize or --engine, and for an unreachable Ray, before any model loads."""
        from large_inverters.images import RESIZE_POLICIES

        if self.resize not in RESIZE_POLICIES:
            raise UserInputError(f"unknown --resize {self.resize!r}", hint=f"use one of {', '.join(RESIZE_POLICIES)}")
        if self.engine not in ENGINES:
            raise UserInputError(f"unknown --engine {self.engine!r}", hint="use local or ray")
        if self.engine == "ray":
            from large_toolkit.api import ray_probe

            ray_probe(self.ray_address)  # no Ray, or a dead address: one line now, before any model is loaded


@dataclass
class PreparedInversion:
    """A checked request with its images selected and its models loaded: ready to :meth:`run`."""

    request: InvertRequest
    name: str  # the inverter actually used (``auto`` resolved)
    generator: Generator
    inverter: Inverter
    paths: list[Path]
    shard: str  # "i/n"
    options: dict[str, Any] = field(default_factory=dict)
    engine: ChunkEngine | None = None

    @property
    def projector_steps(self) -> int | None:
        """Steps per batch when the inverter reports them (the projector), else None."""
        if not hasattr(self.inverter, "step_callback"):
            return None
        return int(self.options.get("num_steps", self.request.steps))

    def run(
        self,
        progress: Callable[[int, int], None] | None = None,
        step_progress: Callable[[int], None] | None = None,
        note: Note | None = None,
    ) -> dict[str, Any]:
        """Invert every image not yet done and merge; the summary also names the engine and the inverter.

        ``progress(done, total)`` follows the images, ``step_progress(steps)`` the projector's steps
        within the current batch.
        """
        from large_inverters.job import InvertJob, run_job
        from large_toolkit.api import LatentSpace

        req = self.request
        if step_progress is not None and self.projector_steps is not None:
            self.inverter.step_callback = lambda step, _losses: step_progress(step + 1)  # type: ignore[attr-defined]
        job = InvertJob(
            self.paths,
            Path(req.out),
            self.inverter,
            self.name,
            self.generator,
            LatentSpace.parse(req.space),
            req.batch_size,
            req.resize,
            self.shard,
            not req.no_report,
            progress,
            note,
        )
        summary = run_job(job, restart=req.restart, engine=self.engine)
        summary.update(engine=req.engine, inverter=self.name)
        return summary


def current_device() -> str:
    """The device the global ``--device`` option resolves to."""
    from large_toolkit.api import global_device, resolve_device

    return str(resolve_device(global_device()))


def prepare_inversion(request: InvertRequest, note: Note) -> PreparedInversion:
    """Check the request, select the images (``--shard``), pick and load the inverter and its generator."""
    from large_inverters.images import discover_images, select_shard

    request.check()
    dev = current_device()
    paths, index, count = select_shard(discover_images(list(request.images)), request.shard)
    name, generator, why = choose_inverter(request, dev)
    if why:
        note(why)
    options = inverter_options(request, name)
    from large_inverters.spec import ModelSpec

    spec = ModelSpec(name, request.backend, request.checkpoint, request.inverter_checkpoint, options, request.class_idx)
    inverter = spec.load_inverter(generator, dev)
    engine = None
    if request.engine == "ray":
        from large_inverters.ray_engine import RayOptions, crash_from_env, ray_engine
        from large_toolkit.api import default_precision

        ray_options = RayOptions(
            request.ray_address, request.ray_workers, dev, 1, crash_from_env(), precision=default_precision()
        )
        engine = ray_engine(spec, ray_options)
    return PreparedInversion(request, name, generator, inverter, paths, f"{index}/{count}", options, engine)


def inverter_options(request: InvertRequest, inverter: str) -> dict[str, Any]:
    """The inverter's keyword options from the command's flags and ``--inverter-option KEY=VALUE`` pairs."""
    options: dict[str, Any] = {}
    if inverter == "optim":
        options = {
            "num_steps": request.steps,
            "lr": request.lr,
            "seed": request.seed,
            "ssim_weight": request.ssim_weight,
            "lpips_vgg": request.lpips_vgg,
            "lpips_heads": request.lpips_heads,
        }
    elif inverter == "encoder":
        options = {"refine_steps": request.refine_steps, "seed": request.seed}
    for item in request.inverter_option or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserInputError(f"--inverter-option {item!r} is not KEY=VALUE", hint="e.g. d_weight=0.1")
        options[key.strip()] = value.strip()
    return options


def choose_inverter(request: InvertRequest, device: str) -> tuple[str, Generator, str | None]:
    """(inverter name, generator, note): ``auto`` picks the fastest inverter (see ``large_inverters.choice``)."""
    from large_inverters.choice import auto_inverter, checkpoint_inverter
    from large_inverters.spec import ModelSpec

    backend, checkpoint, inverter_checkpoint = request.backend, request.checkpoint, request.inverter_checkpoint
    if request.inverter != "auto":
        spec = ModelSpec(request.inverter, backend, checkpoint, inverter_checkpoint, class_idx=request.class_idx)
        return request.inverter, spec.load_generator(device), None
    guess = checkpoint_inverter(inverter_checkpoint) if inverter_checkpoint else "encoder"
    generator = ModelSpec(guess, backend, checkpoint, inverter_checkpoint, class_idx=request.class_idx).load_generator(
        device
    )
    name, why = auto_inverter(generator, inverter_checkpoint)
    return name, generator, f"inverter: {why}"


@dataclass
class EncoderTraining:
    """A started ``train-encoder`` run: this process's rank, the generator that makes the pairs, the settings."""

    out: Path
    dist: DistContext
    generator: Generator
    cfg: TrainConfig

    def train(self, progress: Callable[[int, dict[str, float]], None] | None = None) -> dict[str, Any] | None:
        """Train, save the encoder (rank 0), leave the process group; rank 0 gets the summary, others None."""
        from large_inverters.small_encoder import save_encoder, train_encoder
        from large_toolkit.api import shutdown_distributed

        net, history = train_encoder(self.generator, self.cfg, progress, self.dist)
        history["world_size"] = self.dist.world_size
        if self.dist.is_main:
            save_encoder(self.out, net, self.generator, history)
        shutdown_distributed(self.dist)
        if not self.dist.is_main:
            return None
        return {"out": str(self.out), **history["final"], "seconds": round(history["seconds"], 2)}


def start_encoder_training(
    out: Path, backend: str, checkpoint: str | None, cfg: TrainConfig, class_idx: int | None = None
) -> EncoderTraining:
    """Join the process group (under torchrun) and load the generator on this rank's device.

    ``class_idx`` binds a class-conditional generator to one class (the encoder then records that class's
    fingerprint, so ``invert --class-idx`` with another class refuses it)."""
    from large_toolkit.api import bind_class, init_distributed, load_generator

    dist = init_distributed(current_device())
    generator = bind_class(load_generator(backend, checkpoint, str(dist.device)), class_idx)
    return EncoderTraining(Path(out), dist, generator, cfg)
