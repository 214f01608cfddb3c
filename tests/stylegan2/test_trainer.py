"""The StyleGAN2 trainer: a few steps on CPU produce a loadable checkpoint; resume is exact."""

import pytest
import torch
from large_stylegan2.trainer import discriminator as D
from large_stylegan2.trainer.loop import Trainer, TrainOptions

from large_toolkit.data.synthetic import generate

TINY = dict(
    resolution=16,
    z_dim=16,
    w_dim=16,
    mapping_layers=2,
    channel_base=128,
    channel_max=16,
    batch=4,
    snapshot_kimg=1000.0,
    fd_n=16,
)


def _images(n=32):
    return torch.from_numpy(generate(n, seed=0, resolution=16).images)


def test_few_steps_make_a_loadable_generator(tmp_path):
    opts = TrainOptions(kimg=0.016, rotation_loss=True, **TINY)
    trainer = Trainer(_images(), opts, tmp_path, torch.device("cpu"))
    before = {k: v.detach().clone() for k, v in trainer.G.params.items()}
    path = trainer.train()
    assert trainer.step == 4 and trainer.nimg == 16
    changed = [k for k, v in trainer.G.params.items() if not torch.equal(v.detach(), before[k])]
    assert "synthesis.b16.conv1.weight" in changed and "mapping.fc0.weight" in changed
    assert all(torch.isfinite(torch.tensor(h["loss_D"])) for h in trainer.history)

    from large_toolkit.plugins import load_generator

    G = load_generator("stylegan2", str(path), "cpu")
    img = G.synthesis(G.mapping(G.sample_z(2, seed=0)))
    assert img.shape == (2, 3, 16, 16) and torch.isfinite(img).all()
    assert (tmp_path / "training-state.safetensors").is_file()
    assert list(tmp_path.glob("samples-*.png"))


@pytest.mark.slow
def test_resume_continues_exactly(tmp_path):
    straight = Trainer(_images(), TrainOptions(kimg=0.024, **TINY), tmp_path / "a", torch.device("cpu"))
    straight.train()
    first = Trainer(_images(), TrainOptions(kimg=0.012, **TINY), tmp_path / "b", torch.device("cpu"))
    first.train()
    resumed = Trainer.resume(_images(), tmp_path / "b", torch.device("cpu"), kimg=0.024)
    assert resumed.step == first.step
    resumed.train()
    assert resumed.step == straight.step
    for k, v in straight.G_ema.params.items():
        torch.testing.assert_close(resumed.G_ema.params[k], v, rtol=0, atol=1e-6)


def test_discriminator_shapes_and_rotation_head():
    p = D.init_discriminator(32, 256, 16, rotation_head=True)
    x = torch.randn(6, 3, 32, 32)
    assert D.logits(p, x).shape == (6,)
    assert D.rotation_logits(p, x).shape == (6, 4)
    turned, labels = D.rotate_batch(x, torch.Generator().manual_seed(0))
    for i, k in enumerate(labels.tolist()):
        assert torch.equal(turned[i], torch.rot90(x[i], k, dims=(1, 2)))
