"""SeFa: parity with the reference algorithm (column-normalised Gram, np.linalg.eig) and invariants."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from large_toolkit.errors import UserInputError
from large_toolkit.interfaces import Generator, StyleAffine
from large_toolkit.testing import ToyGenerator
from large_toolkit.types import StyleLayer


def reference_sefa(weights: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The published three lines: concat W.T per layer, normalise columns, float32 eig; rows = boundaries."""
    w = np.concatenate([x.T for x in weights], axis=1).astype(np.float32)
    w = w / np.linalg.norm(w, axis=0, keepdims=True)
    values, vectors = np.linalg.eig(w.dot(w.T))
    return np.real(values), np.real(vectors).T


class SG2LayoutGenerator(ToyGenerator):
    """ToyGenerator whose style layers mimic StyleGAN2 (num_ws 8): convs on slots 0..6, toRGBs on odd slots + 7."""

    def __init__(self) -> None:
        super().__init__(z_dim=24, w_dim=24, num_ws=8, channels=8, seed=3)
        rng = torch.Generator().manual_seed(11)
        layers = [StyleLayer("b4.conv1", 10, 0)]
        layers.append(StyleLayer("b4.torgb", 10, 1, "torgb"))
        for k, res in enumerate((8, 16, 32)):
            layers += [
                StyleLayer(f"b{res}.conv0", 10, 2 * k + 1),
                StyleLayer(f"b{res}.conv1", 10, 2 * k + 2),
                StyleLayer(f"b{res}.torgb", 10, 2 * k + 3, "torgb"),
            ]
        self._affs = [
            StyleAffine(layer, torch.randn(layer.channels, 24, generator=rng) * (1 + i), torch.ones(10))
            for i, layer in enumerate(layers)
        ]

    def style_affines(self) -> list[StyleAffine]:
        return list(self._affs)


def test_sefa_matches_reference_eig_sorted(toy32: Generator) -> None:
    from large_sefa.finder import SeFaFinder

    dirs = SeFaFinder().find(toy32)
    ref_vals, ref_vecs = reference_sefa([a.weight.numpy() for a in toy32.style_affines()])
    order = np.argsort(-ref_vals)
    np.testing.assert_allclose(dirs.scores.numpy(), ref_vals[order], rtol=1e-4, atol=1e-5)
    ours = torch.stack([d.vector for d in dirs]).double().numpy()
    vals = dirs.scores.numpy()
    gaps = np.abs(np.diff(vals)) / vals[0]
    for k in range(10):
        if (k == 0 or gaps[k - 1] > 1e-3) and gaps[k] > 1e-3:
            assert abs(ours[k] @ ref_vecs[order[k]]) >= 1 - 1e-4, k
    # invariants: orthonormal, trace = number of columns, eigenvalues = squared singular values
    np.testing.assert_allclose(ours @ ours.T, np.eye(32), atol=1e-5)
    assert dirs.scores.sum().item() == pytest.approx(4 * 8, rel=1e-9)
    w = torch.cat([a.weight for a in toy32.style_affines()]).double()
    sv = torch.linalg.svdvals(w / w.norm(dim=1, keepdim=True))
    np.testing.assert_allclose(dirs.scores.numpy(), (sv**2).numpy(), rtol=1e-9, atol=1e-12)


def test_sefa_sign_convention_and_mask(toy32: Generator) -> None:
    from large_sefa.finder import SeFaFinder

    dirs = SeFaFinder().find(toy32, {"layers": "1-2"})
    for d in dirs:
        assert d.vector[d.vector.abs().argmax()] > 0
        assert d.layer_mask.tolist() == [False, True, True, False]
    assert dirs.metadata["layers"] == [1, 2]
    assert dirs.metadata["affines"] == ["layer1", "layer2"]
    again = SeFaFinder().find(toy32, {"layers": "1-2"})
    assert torch.equal(torch.stack([d.vector for d in dirs]), torch.stack([d.vector for d in again]))


def test_sefa_layer_selection_sg2_layout() -> None:
    from large_sefa.finder import select_affines

    g = SG2LayoutGenerator()
    slots, picked = select_affines(g, "all")
    assert slots == list(range(8))
    # 7 convs + the final toRGB for the last slot; intermediate toRGBs skipped
    assert [a.layer.name for a in picked] == [
        "b4.conv1",
        "b8.conv0",
        "b8.conv1",
        "b16.conv0",
        "b16.conv1",
        "b32.conv0",
        "b32.conv1",
        "b32.torgb",
    ]
    assert [a.layer.name for a in select_affines(g, "0-1")[1]] == ["b4.conv1", "b8.conv0"]
    # rosinality: every conv plus the first toRGB only
    ros = [a.layer.name for a in select_affines(g, "all", "rosinality")[1]]
    assert ros == ["b4.conv1", "b4.torgb", "b8.conv0", "b8.conv1", "b16.conv0", "b16.conv1", "b32.conv0", "b32.conv1"]
    with pytest.raises(UserInputError, match="out of range"):
        select_affines(g, "3-9")


def test_sefa_rosinality_variant_matches_svd() -> None:
    from large_sefa.finder import SeFaFinder

    g = SG2LayoutGenerator()
    dirs = SeFaFinder().find(g, {"variant": "rosinality"})
    names = ["b4.conv1", "b4.torgb", "b8.conv0", "b8.conv1", "b16.conv0", "b16.conv1", "b32.conv0", "b32.conv1"]
    w = torch.cat([a.weight for a in g.style_affines() if a.layer.name in names]).double()  # [sum C, 24], no norm
    _, s, vh = torch.linalg.svd(w, full_matrices=False)
    np.testing.assert_allclose(dirs.scores.numpy(), (s**2).numpy(), rtol=1e-9)
    ours = torch.stack([d.vector for d in dirs]).double()
    cos = (ours * vh).sum(1).abs()
    assert cos.min().item() >= 1 - 1e-5


def test_sefa_reference_order_mode(toy32: Generator) -> None:
    from large_sefa.finder import SeFaFinder

    dirs = SeFaFinder().find(toy32, {"order": "reference"})
    ref_vals, _ = reference_sefa([a.weight.numpy() for a in toy32.style_affines()])
    np.testing.assert_allclose(dirs.scores.numpy(), ref_vals, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_sefa_at_ffhq_size() -> None:
    """FFHQ-like size: 512-dim W, ~6000 style columns (timing lives in bench/directions_speed.py)."""
    from large_sefa.finder import SeFaFinder

    g = ToyGenerator(z_dim=8, w_dim=512, num_ws=12, channels=512, resolution=4, seed=1)
    dirs = SeFaFinder().find(g)
    assert len(dirs) == 512
    assert dirs.scores.sum().item() == pytest.approx(12 * 512, rel=1e-9)


def test_sefa_bad_options(toy32: Generator) -> None:
    from large_sefa.finder import SeFaFinder

    with pytest.raises(UserInputError, match="not one of genforce, rosinality"):
        SeFaFinder().find(toy32, {"variant": "x"})
    with pytest.raises(UserInputError, match="unknown option"):
        SeFaFinder().find(toy32, {"layer": "0"})
