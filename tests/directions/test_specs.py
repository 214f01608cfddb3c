"""The direction spec grammar, registry resolution and the per-fingerprint cache."""

from __future__ import annotations

import pytest
import torch

from large_toolkit.directions import cache_path, edit_ws, parse_spec, resolve_direction, resolve_direction_set
from large_toolkit.errors import UnknownPluginError, UserInputError


def test_parse_spec(tmp_path) -> None:
    assert parse_spec("sefa:3") == parse_spec("sefa:3").__class__("sefa:3", finder="sefa", key=3)
    assert parse_spec("interfacegan:smile").key == "smile"
    assert parse_spec("ganspace").key is None and parse_spec("ganspace").finder == "ganspace"
    s = parse_spec("file:/x/dirs.safetensors:4")
    assert s.path == "/x/dirs.safetensors" and s.key == 4
    s = parse_spec("file:/x/b.npy")
    assert s.path == "/x/b.npy" and s.key is None
    assert parse_spec("boundary.npy").path == "boundary.npy"
    assert parse_spec("dir/sub/file").path == "dir/sub/file"
    odd = tmp_path / "a:b.npy"
    odd.write_bytes(b"")
    assert parse_spec(f"file:{odd}").path == str(odd)
    with pytest.raises(UserInputError):
        parse_spec("")
    with pytest.raises(UserInputError):
        parse_spec("???:1")


def test_resolve_through_registry_and_cache(tmp_path, monkeypatch, toy32) -> None:
    monkeypatch.setenv("LARGE_TK_CACHE", str(tmp_path))
    d = resolve_direction("sefa:3", toy32)
    assert d.name == "sefa_3"
    files = list((tmp_path / "directions").glob("sefa-*.safetensors"))
    assert len(files) == 1 and toy32.fingerprint() in files[0].name
    again = resolve_direction("sefa:3", toy32)  # from the cache
    assert torch.equal(d.vector, again.vector) and again.layer_mask is not None
    other = resolve_direction("sefa:3", toy32, {"layers": "0"})
    assert not torch.equal(d.vector, other.vector)
    assert len(list((tmp_path / "directions").glob("*.safetensors"))) == 2
    assert cache_path("x", "fp", {"f": lambda: 1}) is None  # not cacheable -> computed every time
    assert resolve_direction_set("sefa", toy32).score_name == "eigenvalue"
    by_name = resolve_direction("sefa:sefa_3", toy32)
    assert torch.equal(by_name.vector, d.vector)
    from large_toolkit.io.artifacts import save_directions

    save_directions(tmp_path / "mine.safetensors", resolve_direction_set("sefa", toy32), toy32)
    f = resolve_direction(f"file:{tmp_path / 'mine.safetensors'}:3", toy32)
    assert torch.equal(f.vector, d.vector)
    assert len(resolve_direction_set(str(tmp_path / "mine.safetensors"))) == 32


def test_errors_are_one_line(tmp_path, monkeypatch, toy32) -> None:
    monkeypatch.setenv("LARGE_TK_CACHE", str(tmp_path))
    with pytest.raises(UnknownPluginError, match="unknown direction finder 'nope'"):
        resolve_direction("nope:1", toy32)
    with pytest.raises(UserInputError, match=r"index 99 .* out of range") as info:
        resolve_direction("sefa:99", toy32)
    assert "0-31" in info.value.one_line()
    with pytest.raises(UserInputError, match="add an index"):
        resolve_direction("sefa", toy32)
    with pytest.raises(UserInputError, match="not found"):
        resolve_direction("file:/nonexistent/b.npy", toy32)


def test_edit_ws_uses_mask_and_layers(toy32) -> None:
    d = resolve_direction("sefa:0", toy32, {"layers": "2-3"}, use_cache=False)
    ws = toy32.mapping(toy32.sample_z(3, 0))
    out = edit_ws(ws, d, 2.0)
    assert torch.allclose(out[:, 2:] - ws[:, 2:], 2.0 * d.vector.expand(3, 2, -1))
    assert torch.equal(out[:, :2], ws[:, :2])
    out = edit_ws(ws, d, -1.0, "0")
    assert torch.allclose(out[:, 0] - ws[:, 0], -d.vector.expand(3, -1)) and torch.equal(out[:, 1:], ws[:, 1:])


def test_finder_options_in_a_spec_are_typed_by_the_declaration(toy_backend) -> None:
    from large_toolkit.directions import parse_spec, resolve_direction
    from large_toolkit.errors import UserInputError
    from large_toolkit.plugins import load_generator

    spec = parse_spec("ganspace:1?num_samples=600&batch_size=200&components=3")
    assert spec.finder == "ganspace" and spec.key == 1 and dict(spec.options)["num_samples"] == "600"
    gen = load_generator("toy", None, device="cpu")
    d = resolve_direction(spec, gen)
    assert d.provenance["config"]["num_samples"] == 600 and d.name == "ganspace_1"
    scorer = parse_spec("interfacegan:0?scorer=mod:fn&ratio=0.1")
    assert dict(scorer.options) == {"scorer": "mod:fn", "ratio": "0.1"}
    with pytest.raises(UserInputError, match="not a valid int"):
        resolve_direction("ganspace:0?num_samples=many", gen)
    with pytest.raises(UserInputError, match="bad options"):
        parse_spec("sefa:0?layers")
