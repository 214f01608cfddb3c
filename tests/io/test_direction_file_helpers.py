"""The format helpers plugins share: atomic ``.npy``/``.npz``/``.pt`` writers and key sniffing."""

from pathlib import Path

import numpy as np
import pytest
import torch

from large_toolkit.api import (
    DirectionFormat,
    load_npy,
    load_npz,
    load_weights_only,
    save_npy,
    save_npz,
    save_weights,
    stored_keys,
)


@pytest.mark.parametrize("compressed", [False, True])
def test_npz_round_trip(tmp_path, compressed):
    arrays = {"boundaries": np.arange(6, dtype=np.float32).reshape(2, 3), "flag": np.asarray(True)}
    out = save_npz(tmp_path / "d.npz", arrays, compressed=compressed)
    with load_npz(out) as back:
        assert sorted(back.files) == ["boundaries", "flag"]
        np.testing.assert_array_equal(back["boundaries"], arrays["boundaries"])
        assert back["flag"].item() is True
    assert stored_keys(out) == {"boundaries", "flag"}


def test_npy_round_trip_and_object_arrays_leave_nothing(tmp_path):
    arr = np.linspace(-1, 1, 8).reshape(1, 8)
    np.testing.assert_array_equal(load_npy(save_npy(tmp_path / "b.npy", arr)), arr)
    with pytest.raises(ValueError):
        save_npy(tmp_path / "bad.npy", np.asarray([{"a": 1}], dtype=object))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.npy"]  # no partial file, no temporary


def test_weights_round_trip_and_keys(tmp_path):
    state = {"eigvec": torch.eye(3), "ckpt": "g.pt"}
    out = save_weights(tmp_path / "f.pt", state)
    back = load_weights_only(out)
    assert torch.equal(back["eigvec"], state["eigvec"]) and back["ckpt"] == "g.pt"
    assert stored_keys(out) == {"eigvec", "ckpt"}
    assert stored_keys(save_weights(tmp_path / "t.pt", torch.ones(1, 4))) == set()  # a bare tensor has no names


class _Keyed(DirectionFormat):
    suffixes = (".npz", ".pt")
    sniff_keys = frozenset({"lat_comp", "lat_mean"})

    def read(self, path: Path):
        raise NotImplementedError


class _Any(_Keyed):
    sniff_keys = frozenset()


def test_default_sniff_needs_every_key(tmp_path):
    both = save_npz(tmp_path / "both.npz", {"lat_comp": np.zeros(2), "lat_mean": np.zeros(2)})
    one = save_npz(tmp_path / "one.npz", {"lat_comp": np.zeros(2)})
    pt = save_weights(tmp_path / "both.pt", {"lat_comp": torch.zeros(2), "lat_mean": torch.zeros(2), "x": 1})
    assert _Keyed().sniff(both) and _Keyed().sniff(pt) and not _Keyed().sniff(one)
    assert _Any().sniff(one)  # no sniff_keys: the suffix decides
