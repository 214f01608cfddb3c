"""e4e / pSp parity with the upstream reference outputs in the shipped fixtures (encoders/).

Tolerances are the fixture README's (rtol 0): 1e-4 for codes, c1 crop and
channel means, 1e-3 for the larger feature maps; they sit 8x above the measured
float32 noise floor.  Weights are rebuilt from the fixture's seeded rule once
per module (~5 s, 1.07 GB).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from large_inverters.checkpoints import (
    broadcast_latent_avg,
    build_encoder,
    parse_encoder_checkpoint,
    read_checkpoint,
)
from large_inverters.irse import IRSEStyleEncoder
from safetensors.torch import load_file

from large_toolkit.errors import UserInputError


@functools.lru_cache(maxsize=1)
def _rule_weights(enc_dir: Path) -> dict[str, torch.Tensor]:
    spec = importlib.util.spec_from_file_location("make_weights", enc_dir / "make_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {k: torch.from_numpy(v) for k, v in module.make_weights().items()}


X_SHA256 = "0d66381efd649f8e52d41aec831d11d7cccbc823ca93925064d333f83cb148c6"


def _input_images() -> torch.Tensor:
    """The fixture's input rule (encoders README); the 1.5 MB tensor is rebuilt instead of shipped.

    The hash is that of the ``x`` the upstream encoders were run on, so a changed numpy stream fails here
    rather than as a parity mismatch.
    """
    x = np.random.default_rng(7).uniform(-1.0, 1.0, size=(2, 3, 256, 256)).astype(np.float32)
    assert hashlib.sha256(x.tobytes()).hexdigest() == X_SHA256
    return torch.from_numpy(x)


@functools.lru_cache(maxsize=1)
def _outputs(enc_dir: Path):
    """One backbone pass, then both head modes on the same features (the heads are cheap next to it)."""
    io = load_file(str(enc_dir / "encoders_io.safetensors"))
    net = IRSEStyleEncoder(18, "psp")
    net.load_state_dict(_rule_weights(enc_dir), strict=True)
    net.eval()
    with torch.no_grad():
        feats = net.features(_input_images())
        psp = net.heads(feats)
        net.mode = "e4e"
        e4e = net.heads(feats)
        stages = {k: net.heads(feats, stage=k) for k in (0, 3, 7)}
    return net, io, feats, psp, e4e, stages


@pytest.fixture
def enc_dir(shared_fixtures) -> Path:
    return shared_fixtures / "encoders"


@pytest.fixture
def rule_weights(enc_dir):
    return _rule_weights(enc_dir)


@pytest.fixture
def outputs(enc_dir):
    return _outputs(enc_dir)[2:]


@pytest.fixture
def io(enc_dir):
    return _outputs(enc_dir)[1]


@pytest.fixture
def net(enc_dir):
    return _outputs(enc_dir)[0]


def _close(got, want, atol):
    diff = (got - want).abs().max().item()
    assert diff <= atol, f"max|diff| {diff:.3g} > {atol}"
    return diff


@pytest.mark.slow
def test_state_dict_layout_matches_official_keys(net, enc_dir):
    import json

    keys = json.loads((enc_dir / "encoder_keys.json").read_text())
    ours = net.state_dict()
    assert list(ours) == [k for k, _, _ in keys]
    assert all(list(ours[k].shape) == s for k, s, _ in keys)


@pytest.mark.slow
def test_backbone_and_fpn_features(outputs, io):
    feats, _, _, _ = outputs
    _close(feats["c3"], io["feat.c3"], 1e-3)
    _close(feats["c2"][:1, :, :16, :16], io["feat.c2.crop"], 1e-3)
    _close(feats["c1"][:1, :, :32, :32], io["feat.c1.crop"], 1e-4)
    _close(feats["p2"][:1, :, :16, :16], io["feat.p2.crop"], 1e-3)
    _close(feats["p1"][:1, :, :16, :16], io["feat.p1.crop"], 1e-3)
    for name in ("c1", "c2", "c3", "p2", "p1"):
        _close(feats[name].double().mean((2, 3)).float(), io[f"feat.{name}.chmean"], 1e-4)


@pytest.mark.slow
def test_psp_and_e4e_codes(outputs, io):
    _, psp, e4e, stages = outputs
    assert _close(psp, io["psp_codes"], 1e-4) < 1e-4
    assert _close(e4e, io["e4e_codes"], 1e-4) < 1e-4
    assert (psp - e4e).abs().max() > 0.1  # the two modes really differ on the same weights
    for k, codes in stages.items():
        _close(codes, io[f"e4e_codes_stage{k}"], 1e-4)


@pytest.mark.slow
def test_latent_avg_forms(outputs, io):
    _, psp, e4e, _ = outputs
    avg18 = broadcast_latent_avg(io["latent_avg"], 18)
    avg512 = broadcast_latent_avg(io["latent_avg_512"], 18)
    _close(e4e + avg18, io["e4e_codes_avg"], 1e-4)
    _close(e4e + avg512, io["e4e_codes_avg512"], 1e-4)
    _close(psp + avg18, io["psp_codes_avg"], 1e-4)
    _close(psp + broadcast_latent_avg(io["latent_avg_512"][None], 18), io["psp_codes_avg512"], 1e-4)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("e4e_container_sample.pt", "e4e"),
        ("psp_container_sample.pt", "psp"),
        ("e4e_container_sample_cudatag.pt", "e4e"),
    ],
)
@pytest.mark.slow  # rebuilds the full IR-SE-50 weights by the fixture rule
def test_container_samples_load_on_cpu(enc_dir, rule_weights, name, kind):
    ckpt = parse_encoder_checkpoint(read_checkpoint(enc_dir / name))
    assert ckpt.kind == kind
    assert ckpt.n_styles == 18 and ckpt.output_size == 1024
    assert len(ckpt.encoder_state) == 10 and all(not k.startswith("encoder.") for k in ckpt.encoder_state)
    for k, v in ckpt.encoder_state.items():
        assert v.device.type == "cpu"
        assert torch.equal(v, rule_weights[k]), k
    assert "noises.noise_0" in ckpt.decoder_state and "style.1.bias" in ckpt.decoder_state
    assert ckpt.latent_avg.shape == (18, 512)
    assert ckpt.opts["device"] == "cuda:0"  # stored opts say cuda; the loader ignored it


@pytest.mark.slow
def test_full_checkpoint_roundtrip_through_loader(tmp_path, rule_weights, io, outputs):
    """A full-size official-layout pSp file loads strictly and its heads reproduce the fixture codes."""
    state = {f"encoder.{k}": v for k, v in rule_weights.items()}
    torch.save(
        {
            "state_dict": state,
            "opts": {"encoder_type": "GradualStyleEncoder", "output_size": 1024},
            "latent_avg": io["latent_avg_512"],
        },
        tmp_path / "psp.pt",
    )
    ckpt = parse_encoder_checkpoint(read_checkpoint(tmp_path / "psp.pt"))
    assert ckpt.kind == "psp" and ckpt.latent_avg.shape == (18, 512)
    net = build_encoder(ckpt)  # strict=True inside
    with torch.no_grad():
        codes = net.heads(outputs[0]) + ckpt.latent_avg
    _close(codes, io["psp_codes_avg512"], 1e-4)
    # The registered inverter, end to end on one image (W+ and S through a 18x512 toy generator).
    from large_toolkit.plugins import get_host
    from large_toolkit.testing import ToyGenerator
    from large_toolkit.types import LatentSpace

    g = ToyGenerator(z_dim=8, w_dim=512, num_ws=18, resolution=16)
    inv = get_host().inverter("psp").create(g, checkpoint=str(tmp_path / "psp.pt"))
    result = inv.invert(_input_images()[1:], g, LatentSpace.WPLUS)
    _close(result.latents.tensor, io["psp_codes_avg512"][1:], 1e-4)
    with pytest.raises(UserInputError, match="psp checkpoint"):
        get_host().inverter("e4e").create(g, checkpoint=str(tmp_path / "psp.pt"))
    with pytest.raises(UserInputError, match="W"):
        inv.invert(_input_images()[1:], g, LatentSpace.W)


def test_embedded_decoder_becomes_the_generator(tmp_path, shared_fixtures):
    """An e4e file's decoder.* (rosinality names) is built by the stylegan2 backend, latent_avg as w_avg."""
    from large_inverters.encoders import embedded_generator
    from large_stylegan2 import load_stylegan2

    rosi = torch.load(shared_fixtures / "official" / "rosi_tiny.pt", map_location="cpu", weights_only=True)
    state = {"encoder.input_layer.0.weight": torch.zeros(64, 3, 3, 3)}
    state.update({f"decoder.{k}": v for k, v in rosi["g_ema"].items()})
    torch.save(
        {
            "state_dict": state,
            "opts": {"encoder_type": "Encoder4Editing", "stylegan_size": 32},
            "latent_avg": rosi["latent_avg"].expand(8, -1).clone(),
        },
        tmp_path / "e4e_tiny.pt",
    )
    g = embedded_generator(str(tmp_path / "e4e_tiny.pt"))
    ref = load_stylegan2(shared_fixtures / "official" / "rosi_tiny.pt")
    assert g.resolution == 32 and g.num_ws == 8
    ws = ref.mapping(ref.sample_z(2, 0))
    assert torch.allclose(g.synthesis(ws), ref.synthesis(ws), atol=1e-6)
    assert torch.allclose(g.w_avg, rosi["latent_avg"].reshape(-1))


def test_refuses_bad_latent_avg_and_missing_type():
    from large_toolkit.errors import CheckpointError

    with pytest.raises(CheckpointError):
        broadcast_latent_avg(torch.zeros(5, 512), 18)
    with pytest.raises(CheckpointError, match="encoder_type"):
        parse_encoder_checkpoint({"state_dict": {"encoder.x": torch.zeros(1)}, "opts": {}})
