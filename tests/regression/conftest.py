"""Shared inputs of the regression CLI tests: latents whose first W coordinate is the label, and directions."""

import pytest
import torch

from large_toolkit.io.artifacts import save_directions, save_latents
from large_toolkit.types import Direction, DirectionSet, Latents, LatentSpace


@pytest.fixture()
def save_linear_inputs(tmp_path):
    """``save(n, dim=8, first_norm=1.0, generator=None, direction_generator=None) -> (ids, y)``.

    Writes ``lat.safetensors`` (``n`` W+ codes, 4 layers; ``generator``: the generator record the file carries)
    and ``dirs.safetensors`` (direction 0: all ones scaled to norm ``first_norm * sqrt(dim)``; direction 1: the
    first axis, which the labels ``y = 10 * mean_layers(code[:, 0]) + 40`` follow exactly).
    """

    def save(n, dim=8, first_norm=1.0, generator=None, direction_generator=None):
        g = torch.Generator().manual_seed(0)
        lat = torch.randn(n, 4, dim, generator=g)
        vec = torch.zeros(dim)
        vec[0] = 1.0
        ids = [f"img{i:04d}" for i in range(n)]
        extra = {"generator": generator} if generator is not None else None
        save_latents(tmp_path / "lat.safetensors", Latents(lat, LatentSpace.WPLUS), ids, extra=extra)
        made_on = {"generator": direction_generator} if direction_generator else {}
        dirs = [Direction(torch.ones(dim) * first_norm, "w"), Direction(vec, "w", provenance=made_on)]
        save_directions(tmp_path / "dirs.safetensors", DirectionSet(dirs))
        return ids, (lat[:, :, 0].mean(1).double().numpy() * 10 + 40).tolist()

    return save
