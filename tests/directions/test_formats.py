"""Reading the originals' real direction files, and round-tripping our writers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from large_toolkit.errors import ArtifactMismatchError, CheckpointError
from large_toolkit.io.direction_formats import detect_format, load_direction_file, save_direction_file
from large_toolkit.types import LatentSpace


def test_interfacegan_npy(shared_fixtures) -> None:
    path = shared_fixtures / "formats" / "interfacegan_stylegan_celebahq_smile_w_boundary.npy"
    dirs = load_direction_file(path)
    assert detect_format(path) == "interfacegan" and len(dirs) == 1
    d = dirs[0]
    assert d.name == "interfacegan_stylegan_celebahq_smile_w" and d.space is LatentSpace.W and d.dim == 512
    ref = np.load(path, allow_pickle=False)[0]
    np.testing.assert_allclose(d.vector.numpy(), ref, atol=1e-7)


def test_e4e_interfacegan_pt_w_and_wplus_saved_on_cuda(shared_fixtures) -> None:
    fmt = shared_fixtures / "formats"
    age = load_direction_file(fmt / "e4e_interfacegan_directions_age.pt")
    assert age[0].space is LatentSpace.W and float(age[0].vector.norm()) == pytest.approx(1.0, abs=1e-5)
    pose = load_direction_file(fmt / "e4e_interfacegan_directions_pose.pt")  # pickled with a cuda device tag
    assert pose[0].space is LatentSpace.WPLUS and tuple(pose[0].vector.shape) == (18, 512)
    assert torch.allclose(pose[0].vector.norm(dim=1), torch.ones(18), atol=1e-5)


def test_e4e_ganspace_pt(shared_fixtures) -> None:
    dirs = load_direction_file(shared_fixtures / "formats" / "e4e_ganspace_pca_ffhq_pca.pt")
    assert len(dirs) == 80 and dirs.score_name == "variance"
    assert dirs[0].provenance["stdev"] == pytest.approx(2.8556, abs=1e-4)
    assert dirs[0].provenance["step_scale"] == dirs[0].provenance["stdev"]
    assert len(dirs.metadata["mean"]) == 512
    rows = torch.stack([d.vector for d in dirs])
    assert torch.allclose(rows.norm(dim=1), torch.ones(80), atol=1e-5)
    # the shipped components already follow the max-|.|-positive sign rule
    assert rows[0][rows[0].abs().argmax()] > 0


def test_ganspace_npz_roundtrip(tmp_path, shared_fixtures) -> None:
    dirs = load_direction_file(shared_fixtures / "formats" / "e4e_ganspace_pca_ffhq_pca.pt")
    out = save_direction_file(tmp_path / "pca.npz", dirs)
    with np.load(out, allow_pickle=False) as data:
        assert data["lat_comp"].shape == (80, 1, 512) and data["lat_mean"].shape == (1, 512)
        assert data["lat_stdev"].shape == (80,)
    back = load_direction_file(out)
    assert detect_format(out) == "ganspace-npz"
    assert torch.equal(torch.stack([d.vector for d in back]), torch.stack([d.vector for d in dirs]))
    save_direction_file(tmp_path / "pca.pt", dirs, "e4e-ganspace")
    e4e = torch.load(tmp_path / "pca.pt", weights_only=True)
    assert set(e4e) == {"mean", "comp", "std"} and e4e["comp"].shape == (80, 1, 512)


def test_sefa_npz_rosinality_and_safetensors_roundtrip(tmp_path, toy32) -> None:
    from large_sefa.finder import SeFaFinder

    dirs = SeFaFinder().find(toy32, {"layers": "0-1"})
    rows = torch.stack([d.vector for d in dirs])
    npz = save_direction_file(tmp_path / "sefa.npz", dirs)
    back = load_direction_file(npz)
    assert detect_format(npz) == "sefa-npz" and back.metadata["layers"] == [0, 1]
    assert torch.equal(torch.stack([d.vector for d in back]), rows)
    np.testing.assert_allclose(back.scores.numpy(), dirs.scores.numpy(), rtol=1e-6)
    fac = save_direction_file(tmp_path / "factor.pt", dirs, "rosinality-factor")
    eig = torch.load(fac, weights_only=True)["eigvec"]
    assert torch.equal(eig[:, 3], rows[3])  # directions in columns
    assert torch.equal(load_direction_file(fac)[3].vector, rows[3])
    st = save_direction_file(tmp_path / "sefa.safetensors", dirs, generator=toy32)
    loaded = load_direction_file(st, toy32)
    assert torch.equal(loaded[5].vector, rows[5]) and loaded[5].layer_mask.tolist() == [True, True, False, False]


def test_boundary_npy_writer(tmp_path, toy32) -> None:
    from large_toolkit.types import Direction, DirectionSet

    v = torch.arange(32, dtype=torch.float32) - 10
    out = save_direction_file(tmp_path / "b.npy", DirectionSet([Direction(v, LatentSpace.W, "x")]))
    arr = np.load(out, allow_pickle=False)
    assert arr.shape == (1, 32) and arr.dtype == np.float32
    assert np.linalg.norm(arr) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ArtifactMismatchError, match="w_dim"):
        load_direction_file(tmp_path / "b.npy", _Fake512())
    load_direction_file(tmp_path / "b.npy", toy32)


class _Fake512:
    w_dim, num_ws = 512, 18


def test_voynov_deformator_import(tmp_path) -> None:
    torch.manual_seed(0)
    half = torch.randn(16, 16) * 0.1
    torch.save({"log_mat_half": half}, tmp_path / "deformator_1000.pt")
    dirs = load_direction_file(tmp_path / "deformator_1000.pt")
    a = torch.linalg.matrix_exp((half - half.T).double())
    rows = torch.stack([d.vector for d in dirs]).double()
    assert torch.allclose(rows, a.T, atol=1e-6)
    assert torch.allclose(rows @ rows.T, torch.eye(16, dtype=torch.float64), atol=1e-5)


def test_unsafe_or_unknown_files(tmp_path) -> None:
    import pickle

    (tmp_path / "evil.pt").write_bytes(pickle.dumps({"x": object()}))
    with pytest.raises(CheckpointError):
        load_direction_file(tmp_path / "evil.pt")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(CheckpointError, match="numeric"):
        load_direction_file(tmp_path / "obj.npy")
