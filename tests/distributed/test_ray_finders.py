"""Direction finders' sampling on a REAL local Ray cluster: GANSpace and InterFaceGAN, local vs Ray.

The chunks and their seeds are fixed before scheduling and partial results are combined in chunk
order, so the Ray result must equal the local one for 1 and 2 workers.  Tests that need Ray take the
``ray_cluster`` fixture (skipped without the ``distributed`` extra); the missing-Ray message is
checked with Ray's import blocked.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from large_toolkit.errors import UserInputError
from large_toolkit.plugins import load_generator

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the driver imports the scorer by module path; the workers get HERE via conftest
    sys.path.insert(0, str(HERE))
SCORER = "finder_scorers:brightness"  # imported by module path on every Ray worker, from any cwd
GANSPACE = {"num_samples": 20_000, "batch_size": 2_000, "components": 16, "seed": 3}


@pytest.fixture(scope="module")
def demo_generator():
    return load_generator("stylegan2", None, "cpu")


def _ganspace(generator, **engine):
    from large_ganspace.finder import GANSpaceFinder

    return GANSpaceFinder().find(generator, {**GANSPACE, **engine})


@pytest.mark.slow
def test_ganspace_ray_equals_local_for_1_and_2_workers(ray_cluster, demo_generator) -> None:
    local = _ganspace(demo_generator)
    comps = torch.stack([d.vector for d in local.directions]).double()
    for workers in (1, 2):
        remote = _ganspace(demo_generator, engine="ray", ray_workers=workers)
        rc = torch.stack([d.vector for d in remote.directions]).double()
        cos = (comps * rc).sum(1) / (comps.norm(dim=1) * rc.norm(dim=1))
        assert cos.min().item() >= 1 - 1e-9, (workers, cos.min().item())
        assert (comps - rc).abs().max().item() <= 1e-6
        np.testing.assert_allclose(remote.scores.numpy(), local.scores.numpy(), rtol=1e-8, atol=0)
        np.testing.assert_allclose(remote.metadata["mean"], local.metadata["mean"], rtol=0, atol=1e-9)
        assert remote.metadata["num_samples"] == GANSPACE["num_samples"]


def test_ganspace_chunks_do_not_depend_on_the_device_or_order(demo_generator) -> None:
    """The per-chunk seed makes chunk k reproducible alone: what a worker computes is what the driver would."""
    from large_ganspace.finder import iter_w_batches, w_chunk

    chunks = list(iter_w_batches(demo_generator, 5_000, 2_000, 3))
    assert [len(c) for c in chunks] == [2_000, 2_000, 1_000]
    assert torch.equal(w_chunk(demo_generator, 2, 1_000, 3), chunks[2])
    assert not torch.equal(chunks[0][:1000], chunks[2])


def _interfacegan(generator, **engine):
    from large_interfacegan.finder import InterFaceGANFinder

    cfg = {"scorer": SCORER, "num_samples": 256, "chunk_size": 64, "batch_size": 32, "ratio": 0.2, "seed": 4}
    return InterFaceGANFinder().find(generator, {**cfg, **engine})


@pytest.mark.slow
def test_interfacegan_ray_equals_local(ray_cluster, demo_generator) -> None:
    local = _interfacegan(demo_generator)
    for workers in (1, 2):
        remote = _interfacegan(demo_generator, engine="ray", ray_workers=workers)
        a, b = local.directions[0], remote.directions[0]
        torch.testing.assert_close(b.vector, a.vector, rtol=0, atol=1e-6)
        assert b.intercept == pytest.approx(a.intercept, abs=1e-6)
        assert b.provenance["val_accuracy"] == a.provenance["val_accuracy"]


def test_engine_ray_without_ray_is_one_line(monkeypatch, demo_generator) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # ``import ray`` raises ImportError
    with pytest.raises(UserInputError) as info:
        _ganspace(demo_generator, engine="ray")
    text = str(info.value) + " " + str(getattr(info.value, "hint", ""))
    assert "pip install 'large-toolkit[distributed]'" in text
    assert "\n" not in text


def test_unknown_engine_is_refused(demo_generator) -> None:
    with pytest.raises(UserInputError, match="not one of local, ray"):
        _ganspace(demo_generator, engine="dask")
