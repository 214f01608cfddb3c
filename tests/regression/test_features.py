"""Distance features: the released dot-product definition, layouts, layer subsets and weights."""

import numpy as np
import pytest
import torch

from large_toolkit.errors import UserInputError
from large_toolkit.regression.features import FeatureSpec, distance_features, layer_distances, scalar_distance
from large_toolkit.types import Direction, Latents, LatentSpace, StyleLayer


def _wplus(n=5, layers=4, dim=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return Latents(torch.randn(n, layers, dim, generator=g), LatentSpace.WPLUS)


def test_w_distance_is_plain_dot_product_plus_intercept():
    lat = Latents(torch.tensor([[1.0, 2.0], [3.0, -1.0]]), LatentSpace.W)
    d = Direction(torch.tensor([2.0, 0.5]), LatentSpace.W, intercept=0.25)  # not unit: never normalised
    np.testing.assert_allclose(distance_features(lat, d), [[3.25], [5.75]])
    np.testing.assert_allclose(distance_features(lat, d, FeatureSpec(use_intercept=False)), [[3.0], [5.5]])


def test_wplus_per_layer_tiles_a_w_direction_and_euclidean_sums():
    lat = _wplus()
    vec = torch.tensor([1.0, -2.0, 0.5])
    per = layer_distances(lat, Direction(vec, LatentSpace.W))
    expected = np.einsum("nld,d->nl", lat.tensor.double().numpy(), vec.double().numpy())
    np.testing.assert_allclose(per, expected, rtol=1e-12)
    eu = distance_features(lat, Direction(vec, LatentSpace.W), FeatureSpec(distance="euclidean"))
    flat = lat.flatten().double().numpy() @ np.tile(vec.double().numpy(), 4)
    np.testing.assert_allclose(eu[:, 0], flat, rtol=1e-12)
    mean = distance_features(lat, Direction(vec, LatentSpace.W), FeatureSpec(combine="mean"))
    np.testing.assert_allclose(eu[:, 0], 4 * mean[:, 0], rtol=1e-12)  # euclidean = num_ws x mean


def test_wplus_direction_layers_and_weights():
    lat = _wplus()
    vec = torch.arange(12, dtype=torch.float32).reshape(4, 3) / 10
    d = Direction(vec, LatentSpace.WPLUS)
    per = layer_distances(lat, d)
    multi = distance_features(lat, d, FeatureSpec(layers="1-2", combine="multi"))
    np.testing.assert_allclose(multi, per[:, [1, 2]])
    w = [0.0, 2.0, 1.0, 5.0]
    weighted = distance_features(lat, d, FeatureSpec(layers="1,2", layer_weights=w))
    np.testing.assert_allclose(weighted[:, 0], per[:, 1] * 2 + per[:, 2])
    norm = distance_features(lat, d, FeatureSpec(layers="1,2", layer_weights=w, normalize_weights=True))
    np.testing.assert_allclose(norm[:, 0], (per[:, 1] * 2 + per[:, 2]) / 3)
    masked = Direction(vec, LatentSpace.WPLUS, layer_mask=torch.tensor([0, 0, 0, 1]))
    np.testing.assert_allclose(distance_features(lat, masked)[:, 0], per[:, 3])
    with pytest.raises(UserInputError, match="3 layer weights for 4 layers"):
        distance_features(lat, d, FeatureSpec(layer_weights=[1, 2, 3]))


def test_w_code_against_wplus_direction_tiles_the_code():
    lat = Latents(torch.tensor([[1.0, 0.0, 2.0]]), LatentSpace.W)
    d = Direction(torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 1.0]]), LatentSpace.WPLUS)
    np.testing.assert_allclose(layer_distances(lat, d), [[3.0, 2.0]])


def test_s_space_per_style_layer():
    layers = (StyleLayer("a", 2, 0), StyleLayer("b", 3, 1))
    lat = Latents(torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0]]), LatentSpace.S, layers)
    d = Direction(torch.tensor([1.0, 0.0, 1.0, 1.0, -1.0]), LatentSpace.S, style_layers=layers)
    np.testing.assert_allclose(layer_distances(lat, d), [[1.0, 2.0]])
    np.testing.assert_allclose(distance_features(lat, d, FeatureSpec(distance="euclidean")), [[3.0]])


def test_s_direction_on_wplus_latents_goes_through_the_generator():
    from large_toolkit.testing import ToyGenerator

    gen = ToyGenerator(num_ws=3, w_dim=4, z_dim=4, channels=2)
    ws = gen.mapping(torch.randn(6, 4, generator=torch.Generator().manual_seed(1)))
    lat = Latents(ws, LatentSpace.WPLUS)
    d = Direction(torch.ones(6), LatentSpace.S, style_layers=gen.style_layers)
    per = layer_distances(lat, d, gen)
    styles = gen.styles(ws).double().numpy()
    np.testing.assert_allclose(per, styles.reshape(6, 3, 2).sum(2), rtol=1e-6)
    with pytest.raises(UserInputError, match="S direction needs S latents"):
        layer_distances(lat, d)


def test_vectorised_over_many_samples_and_scalar_refuses_multi():
    lat = _wplus(n=20000, layers=18, dim=16)
    d = Direction(torch.ones(16), LatentSpace.W)
    assert distance_features(lat, d).shape == (20000, 1)
    with pytest.raises(UserInputError, match="one distance per image"):
        scalar_distance(lat, d, FeatureSpec(combine="multi"))


def test_dimension_mismatch_is_a_clear_error():
    with pytest.raises(UserInputError, match="dimension 3 but the direction has 2"):
        distance_features(_wplus(), Direction(torch.ones(2), LatentSpace.W))
