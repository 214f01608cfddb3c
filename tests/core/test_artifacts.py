import json

import pytest
import torch

from large_toolkit.errors import ArtifactMismatchError, CheckpointError, UserInputError
from large_toolkit.io.artifacts import load_directions, load_latents, save_directions, save_latents
from large_toolkit.io.atomic import atomic_path
from large_toolkit.testing import ToyGenerator
from large_toolkit.types import Direction, DirectionSet, Latents, LatentSpace


def test_directions_round_trip_with_metadata(tmp_path, toy_generator):
    s_dir = Direction(torch.randn(toy_generator.style_dim), "s", "s0", style_layers=toy_generator.style_layers)
    dirs = DirectionSet(
        [Direction(torch.randn(16), "w", "a", 0.5, provenance={"finder": "x"}), s_dir],
        torch.tensor([2.0, 1.0]),
        "eigenvalue",
        {"finder": "x"},
    )
    path = save_directions(tmp_path / "d.safetensors", dirs, toy_generator)
    back = load_directions(path, toy_generator)
    assert [d.name for d in back] == ["a", "s0"]
    assert torch.equal(back[0].vector, dirs[0].vector)
    assert back[0].intercept == 0.5 and back[0].provenance == {"finder": "x"}
    assert back[1].style_layers == toy_generator.style_layers
    assert back.metadata["generator"]["fingerprint"] == toy_generator.fingerprint()
    assert back.score_name == "eigenvalue"


def test_direction_for_other_generator_is_refused(tmp_path, toy_generator):
    dirs = DirectionSet([Direction(torch.randn(16), "w", "a")])
    path = save_directions(tmp_path / "d.safetensors", dirs, toy_generator)
    other = ToyGenerator(z_dim=8, w_dim=64)
    with pytest.raises(ArtifactMismatchError, match="w_dim=16, this generator has w_dim=64"):
        load_directions(path, other)


def test_latents_round_trip_and_checks(tmp_path, toy_generator):
    lat = Latents(torch.randn(3, 4, 16), LatentSpace.WPLUS)
    path = save_latents(tmp_path / "l.safetensors", lat, ids=["a", "b", "c"], generator=toy_generator)
    back, ids, _meta = load_latents(path, toy_generator)
    assert ids == ["a", "b", "c"] and torch.equal(back.tensor, lat.tensor)
    with pytest.raises(UserInputError, match="3 ids for 2"):
        save_latents(tmp_path / "x.safetensors", lat[:2], ids=["a", "b", "c"])
    assert not (tmp_path / "x.safetensors").exists()


def test_corrupt_and_foreign_files_give_clear_errors(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_directions(bad)
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"x": torch.zeros(2)}, str(foreign))
    with pytest.raises(CheckpointError, match="no large-tk metadata"):
        load_directions(foreign)
    with pytest.raises(UserInputError, match="not found"):
        load_directions(tmp_path / "missing.safetensors")


def test_wrong_artifact_kind_is_refused(tmp_path, toy_generator):
    path = save_latents(tmp_path / "l.safetensors", Latents(torch.randn(2, 16), "w"))
    with pytest.raises(CheckpointError, match="expected 'large-tk/directions'"):
        load_directions(path)


def test_atomic_write_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text(json.dumps({"partial": True}))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with atomic_path(target) as tmp:
        tmp.write_text("{}")
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
