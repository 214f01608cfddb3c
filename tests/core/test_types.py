import pytest
import torch

from large_toolkit.errors import ShapeError, UserInputError
from large_toolkit.interfaces import layer_indices
from large_toolkit.types import Direction, DirectionSet, Latents, LatentSpace, StyleLayer


def test_latent_space_parse_accepts_common_spellings():
    assert LatentSpace.parse("W+") is LatentSpace.WPLUS
    assert LatentSpace.parse("wplus") is LatentSpace.WPLUS
    assert LatentSpace.parse("s") is LatentSpace.S
    with pytest.raises(UserInputError, match="unknown latent space"):
        LatentSpace.parse("q")


def test_wrong_shape_names_expected_and_got():
    with pytest.raises(ShapeError, match=r"expected shape \[N, num_ws, w_dim\], got \[4, 8\]"):
        Latents(torch.zeros(4, 8), LatentSpace.WPLUS)
    layers = (StyleLayer("a", 3, 0), StyleLayer("b", 2, 1))
    with pytest.raises(ShapeError, match=r"expected shape \[N, 5\]"):
        Latents(torch.zeros(2, 4), LatentSpace.S, layers)


def test_w_to_wplus_tiles_each_code():
    w = torch.randn(3, 6)
    wp = Latents(w, LatentSpace.W).to_wplus(4)
    assert wp.tensor.shape == (3, 4, 6)
    assert torch.equal(wp.tensor[:, 2], w)
    with pytest.raises(ShapeError):
        wp.to_wplus(5)


def test_wplus_to_styles_runs_generator_affines(toy_generator):
    ws = toy_generator.mapping(toy_generator.sample_z(2, seed=1))
    s = Latents(ws, LatentSpace.WPLUS).to_styles(toy_generator)
    assert s.space is LatentSpace.S
    parts = s.split_styles()
    affine = toy_generator.style_affines()[1]
    expected = ws[:, 1] @ affine.weight.T + affine.bias
    torch.testing.assert_close(parts["layer1"], expected)


def test_direction_validation_and_unit():
    d = Direction(torch.tensor([3.0, 4.0]), "w", name="x", intercept=10.0)
    u = d.unit()
    assert torch.allclose(u.vector, torch.tensor([0.6, 0.8]))
    assert u.intercept == pytest.approx(2.0)
    with pytest.raises(UserInputError, match="NaN"):
        Direction(torch.tensor([float("nan"), 1.0]), "w")
    with pytest.raises(UserInputError, match="zero length"):
        Direction(torch.zeros(3), "w").unit()


def test_direction_set_lookup_errors_are_clear():
    ds = DirectionSet([Direction(torch.ones(2), "w", name="smile")], torch.tensor([1.0]))
    assert ds["smile"].name == "smile"
    with pytest.raises(UserInputError, match="out of range"):
        ds[3]
    with pytest.raises(UserInputError, match="no direction named"):
        ds["age"]
    with pytest.raises(ShapeError):
        DirectionSet([Direction(torch.ones(2), "w")], torch.tensor([1.0, 2.0]))


def test_layer_indices_grammar():
    assert layer_indices("all", 4) == [0, 1, 2, 3]
    assert layer_indices("0-1,3", 4) == [0, 1, 3]
    assert layer_indices([2], 4) == [2]
    with pytest.raises(UserInputError, match="out of range"):
        layer_indices("2-9", 4)
    with pytest.raises(UserInputError, match="bad layer selection"):
        layer_indices("x", 4)
