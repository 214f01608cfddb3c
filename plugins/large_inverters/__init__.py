"""large-tk plugin: the ``e4e``, ``psp``, ``optim`` and ``encoder`` inverters, ``invert`` and ``train-encoder``.

This hook module stays light (no torch at import) so ``large-tk plugins`` is
fast; factories in :mod:`large_inverters.factories` import the models lazily.

Public API::

    from large_inverters.encoders import load_style_encoder, embedded_generator   # official e4e / pSp files
    from large_inverters.projector import Projector, ProjectorConfig             # W / W+ / S optimisation
    from large_inverters.options import ProjectorOptions, EncoderOptions         # typed --inverter-option
    from large_inverters.small_encoder import train_encoder, save_encoder, load_encoder, EncoderInverter
    from large_inverters.job import InvertJob, run_job                            # resumable batch inversion
"""

from __future__ import annotations

from typing import Any

from large_toolkit.api import hookimpl, lazy


def _lazy(name: str) -> Any:
    return lazy(f"large_inverters.factories:{name}")


@hookimpl
def register_inverters(register: Any) -> None:
    from large_inverters.options import EncoderOptions, ProjectorOptions, StyleEncoderOptions  # light: no torch

    e4e, psp = "encoder4editing (IR-SE-50, w0 + deltas)", "pixel2style2pixel GradualStyleEncoder"
    register("e4e", _lazy("make_e4e"), f"{e4e} from an official checkpoint", options=StyleEncoderOptions)
    register("psp", _lazy("make_psp"), f"{psp} from an official checkpoint", options=StyleEncoderOptions)
    register(
        "optim",
        _lazy("make_projector"),
        "optimisation projector (W / W+ / S; MSE, MS-SSIM, optional LPIPS)",
        options=ProjectorOptions,
    )
    register(
        "encoder", _lazy("make_encoder"), "small encoder trained with `large-tk train-encoder`", options=EncoderOptions
    )


@hookimpl
def register_commands(app: Any) -> None:
    from large_inverters.cli import install

    install(app)
