"""Every built-in generator, finder and inverter passes the plugin conformance checks of ``large_toolkit.testing``."""

from __future__ import annotations

import pytest
import torch

from large_toolkit.interfaces import CapabilityError
from large_toolkit.testing import ToyGenerator, check_finder, check_generator, check_inverter


def _sg2():
    from large_toolkit.plugins import load_generator

    return load_generator("stylegan2", None, "cpu")  # the bundled demo model


def _sg3():
    from large_stylegan3 import StyleGAN3Generator

    return StyleGAN3Generator.random(resolution=16, cfg="T", z_dim=8, w_dim=8, channel_base=256, channel_max=16)


@pytest.mark.parametrize("make", [ToyGenerator, _sg2, _sg3], ids=["toy", "stylegan2", "stylegan3"])
def test_builtin_generators(make) -> None:
    check_generator(make())


@pytest.fixture
def toy() -> ToyGenerator:
    return ToyGenerator(z_dim=16, w_dim=16, num_ws=4, resolution=16, channels=8, seed=0)


def brightness(images: torch.Tensor) -> torch.Tensor:
    """An InterFaceGAN scorer importable as ``tests.test_conformance:brightness``."""
    return images.mean(dim=(1, 2, 3))


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("sefa", {}),
        ("ganspace", {"num_samples": 1000, "batch_size": 250, "components": 4}),
        ("interfacegan", {"scorer": brightness, "num_samples": 200, "ratio": 0.25}),
        ("voynov", {"steps": 5, "directions": 3, "batch_size": 4, "eval_per_direction": 2}),
    ],
)
def test_builtin_finders(toy, name, config) -> None:
    from large_toolkit.plugins import load_direction_finder

    check_finder(load_direction_finder(name), toy, config, name)


def test_sefa_declares_style_affines_and_refuses_a_base_generator() -> None:
    from large_toolkit.interfaces import Generator
    from large_toolkit.plugins import load_direction_finder

    class Plain(Generator):
        z_dim, resolution = 4, 4

        device = torch.device("cpu")

        def to(self, device):
            return self

        def decode(self, codes):
            return codes.mean(1)[:, None, None, None].expand(-1, 3, 4, 4).tanh()

        def state_tensors(self):
            return {"w": torch.ones(1)}

    check_generator(Plain())
    with pytest.raises(CapabilityError, match="style_affines"):
        check_finder(load_direction_finder("sefa"), Plain(), {}, "sefa")


def test_builtin_projector(toy) -> None:
    from large_toolkit.plugins import get_host

    inverter = get_host().inverter("optim").create(toy, None, "cpu", num_steps=3)
    check_inverter(inverter, toy, "wplus", name="optim")
    check_inverter(inverter, toy, "w", name="optim")
