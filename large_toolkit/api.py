"""The public plugin API: everything a large-tk plugin may import, and nothing else.

Plugins (built-in and third-party) import from here only; ``tests/test_layering.py``
fails when a plugin reaches into any other core module.  Names are resolved
lazily (PEP 562), so a plugin's hook module can ``from large_toolkit.api import
hookimpl`` at discovery without importing torch.

Stability: :data:`PLUGIN_API_VERSION` is ``MAJOR.MINOR``.  A name is only
removed or changed incompatibly in a new MAJOR; new names and new optional
hook arguments bump MINOR.  A plugin can check ``api.PLUGIN_API_VERSION`` at
import time.  See docs/plugins.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from large_toolkit import hookimpl

PLUGIN_API_VERSION = "1.2"

_LAZY: dict[str, str] = {
    # nouns
    "LatentSpace": "large_toolkit.types",
    "StyleLayer": "large_toolkit.types",
    "Latents": "large_toolkit.types",
    "Direction": "large_toolkit.types",
    "DirectionSet": "large_toolkit.types",
    "style_offsets": "large_toolkit.types",
    # the three plugin interfaces and capabilities
    "Generator": "large_toolkit.interfaces",
    "StyleGenerator": "large_toolkit.interfaces",
    "ParamsDict": "large_toolkit.interfaces",
    "Capability": "large_toolkit.interfaces",
    "CapabilityError": "large_toolkit.interfaces",
    "StyleAffine": "large_toolkit.interfaces",
    "Inverter": "large_toolkit.interfaces",
    "InversionResult": "large_toolkit.interfaces",
    "DirectionFinder": "large_toolkit.interfaces",
    "ProgressFn": "large_toolkit.interfaces",
    "layer_indices": "large_toolkit.interfaces",
    # typed options (finders, inverters): one declaration for CLI, specs, Python and the GUI form
    "option": "large_toolkit.options",
    "OptionInfo": "large_toolkit.options",
    "describe_options": "large_toolkit.options",
    "parse_options": "large_toolkit.options",
    "parse_pairs": "large_toolkit.options",
    "ExecutionOptions": "large_toolkit.options",
    # errors (rendered by the CLI as one line)
    "LargeTkError": "large_toolkit.errors",
    "UserInputError": "large_toolkit.errors",
    "ShapeError": "large_toolkit.errors",
    "CheckpointError": "large_toolkit.errors",
    "ArtifactMismatchError": "large_toolkit.errors",
    # direction numerics shared by finders and edit tools
    "canonical_sign": "large_toolkit.directions",
    "resolve_direction": "large_toolkit.directions",
    # direction file formats (plugins own theirs through register_direction_formats)
    "DirectionFormat": "large_toolkit.io.direction_formats",
    "as_float_tensor": "large_toolkit.io.direction_formats",
    "directions_from_rows": "large_toolkit.io.direction_formats",
    "vectors_to_set": "large_toolkit.io.direction_formats",
    "load_weights_only": "large_toolkit.io.direction_formats",
    "npz_keys": "large_toolkit.io.direction_formats",
    "stored_keys": "large_toolkit.io.direction_formats",
    "save_weights": "large_toolkit.io.direction_formats",
    "load_npy": "large_toolkit.io.numpy_files",
    "load_npz": "large_toolkit.io.numpy_files",
    "save_npy": "large_toolkit.io.numpy_files",
    "save_npz": "large_toolkit.io.numpy_files",
    "w_rows": "large_toolkit.io.direction_formats",
    "per_direction": "large_toolkit.io.direction_formats",
    # artifacts and provenance
    "generator_meta": "large_toolkit.io.artifacts",
    "require_same_generator": "large_toolkit.io.artifacts",
    "save_tensors": "large_toolkit.io.artifacts",
    "load_tensors": "large_toolkit.io.artifacts",
    "parse_metadata": "large_toolkit.io.artifacts",
    "save_latents": "large_toolkit.io.artifacts",
    "load_latents": "large_toolkit.io.artifacts",
    "atomic_path": "large_toolkit.io.atomic",
    "write_text_atomic": "large_toolkit.io.atomic",
    # safe checkpoint reading (never executes code from a file)
    "read_checkpoint": "large_toolkit.io.checkpoint",
    "read_torch_checkpoint": "large_toolkit.io.checkpoint",
    "read_safetensors": "large_toolkit.io.checkpoint",
    "sniff_format": "large_toolkit.io.checkpoint",
    "persistent_state_dict": "large_toolkit.io.checkpoint",
    "PersistentRecord": "large_toolkit.io.checkpoint",
    "TFNetworkStub": "large_toolkit.io.checkpoint",
    # images
    "read_image": "large_toolkit.io.images",
    "write_image": "large_toolkit.io.images",
    "list_images": "large_toolkit.io.images",
    "make_grid": "large_toolkit.io.images",
    "to_uint8": "large_toolkit.io.images",
    "fit_to_resolution": "large_toolkit.io.images",
    "resize_note": "large_toolkit.io.images",
    "DEFAULT_RESIZE": "large_toolkit.io.images",
    "RESIZE_POLICIES": "large_toolkit.io.images",
    "exclusive_output_lock": "large_toolkit.io.lock",
    "check_output_path": "large_toolkit.validate",
    "read_image_folder": "large_toolkit.data.folders",
    "synthetic_images": "large_toolkit.data.synthetic",
    # running work: devices, seeds, progress, chunked / Ray / distributed execution
    "resolve_device": "large_toolkit.runner",
    "precision_autocast": "large_toolkit.runner",
    "use_channels_last": "large_toolkit.precision",
    "default_precision": "large_toolkit.precision",
    "seeded_generator": "large_toolkit.runner",
    "parse_seeds": "large_toolkit.runner",
    "make_progress": "large_toolkit.progress",
    "EXECUTION_OPTIONS": "large_toolkit.chunk_engine",
    "EngineOptions": "large_toolkit.chunk_engine",
    "chunk_ranges": "large_toolkit.chunk_engine",
    "chunk_z": "large_toolkit.chunk_engine",
    "run_chunks": "large_toolkit.chunk_engine",
    "DistContext": "large_toolkit.distributed",
    "init_distributed": "large_toolkit.distributed",
    "shutdown_distributed": "large_toolkit.distributed",
    "average_gradients": "large_toolkit.distributed",
    "average_scalars": "large_toolkit.distributed",
    "ray_connect": "large_toolkit.ray_support",
    "require_ray": "large_toolkit.ray_support",
    "ray_probe": "large_toolkit.ray_support",
    "RAY_INSTALL_HINT": "large_toolkit.ray_support",
    # the registry and generator resolution (for plugins that add commands)
    "get_host": "large_toolkit.plugins",
    "load_generator": "large_toolkit.plugins",
    "resolve_generator": "large_toolkit.generators",
    "bind_class": "large_toolkit.conditional",
    # command-writing helpers (plugins that add Typer commands)
    "note": "large_toolkit.cli.output",
    "print_json": "large_toolkit.cli.output",
    "global_device": "large_toolkit.cli.state",
    "cli_options": "large_toolkit.cli.options",
    # training and metrics (the StyleGAN2 trainer)
    "RotationExtractor": "large_toolkit.analysis.fid_extractors",
    "generator_batches": "large_toolkit.analysis.fid_extractors",
    "real_statistics": "large_toolkit.analysis.fid_extractors",
    "FeatureExtractor": "large_toolkit.analysis.frechet",
    "GaussianStats": "large_toolkit.analysis.frechet",
    "feature_statistics": "large_toolkit.analysis.frechet",
    "frechet_distance": "large_toolkit.analysis.frechet",
    "quantize": "large_toolkit.analysis.frechet",
    "InceptionExtractor": "large_toolkit.analysis.inception",
}
_RENAMED = {
    "describe_options": "describe",
    "require_same_generator": "check_generator",
    "synthetic_images": "generate",
    "shutdown_distributed": "shutdown",
    "ray_connect": "connect",
    "ray_probe": "probe",
    "RAY_INSTALL_HINT": "INSTALL_HINT",
}

__all__ = ["PLUGIN_API_VERSION", "hookimpl", "lazy", "registry_hook", *_LAZY]

#: One component for :func:`registry_hook`: ``(name, factory, description)`` or ``(..., meta)``, where
#: ``factory`` is a callable or a ``"package.module:Name"`` target imported only when it is built.
_Factory = str | Callable[..., Any]
_Component = tuple[str, _Factory, str] | tuple[str, _Factory, str, Mapping[str, Any]]


def lazy(target: str) -> Callable[..., Any]:
    """A registry factory that imports ``"package.module:Name"`` only when called, then calls it.

    Hook modules register ``lazy("my_plugin.finder:MyFinder")`` so discovery never imports torch.
    """
    module, _, attr = target.partition(":")
    if not module or not attr:
        raise ValueError(f"lazy target {target!r} must be 'package.module:Name'")

    def factory(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), attr)(*args, **kwargs)

    factory.__name__ = factory.__qualname__ = attr
    return factory


def registry_hook(*components: _Component) -> Callable[[Any], None]:
    """A ready registry hook implementation that registers ``components``: a plugin's hook module in one statement.

    Why: every registry hook (``register_generators``, ``register_inverters``, ``register_direction_finders``,
    ``register_direction_formats``) has the same body -- one ``register(name, factory, description, **meta)``
    per component with a lazily imported factory -- so a plugin declares the components and this builds the
    ``@hookimpl`` function.  Assign it to the hook's name in the entry-point module::

        register_direction_finders = registry_hook(("random", "my_plugin.finder:RandomFinder", "random directions"))

    A string factory goes through :func:`lazy`, so the hook module still imports no torch.
    """
    entries: list[tuple[str, Callable[..., Any], str, dict[str, Any]]] = []
    for component in components:
        if len(component) not in (3, 4):
            raise ValueError(f"registry_hook component {component!r} must be (name, factory, description[, meta])")
        name, factory, description, *meta = component
        entries.append((name, lazy(factory) if isinstance(factory, str) else factory, description, dict(*meta)))

    @hookimpl
    def hook(register: Any) -> None:
        for name, factory, description, meta in entries:
            register(name, factory, description, **meta)

    return hook


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        if name == "cli_options":
            return module
        return getattr(module, _RENAMED.get(name, name))
    raise AttributeError(f"module 'large_toolkit.api' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
