import pytest
import torch

from large_toolkit.errors import DeviceError, UserInputError
from large_toolkit.runner import Runner, parse_seeds, resolve_device, seeded_generator


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(DeviceError, match="unknown device"):
        resolve_device("gpu7")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="no CUDA GPU"):
            resolve_device("cuda:0")


def test_runner_maps_in_batches_and_keeps_order():
    calls = []

    def fn(x):
        calls.append(x.shape[0])
        return x * 2

    out = Runner(device="cpu", batch_size=4, show_progress=False).map(fn, torch.arange(10.0))
    assert torch.equal(out, torch.arange(10.0) * 2)
    assert calls == [4, 4, 2]


def test_runner_reports_progress_and_rejects_empty():
    seen = []
    r = Runner(device="cpu", batch_size=3, show_progress=False, progress_callback=lambda d, t: seen.append((d, t)))
    r.map(lambda x: x, torch.zeros(7, 2))
    assert seen == [(3, 7), (6, 7), (7, 7)]
    with pytest.raises(UserInputError, match="empty"):
        r.map(lambda x: x, torch.zeros(0, 2))
    with pytest.raises(UserInputError):
        Runner(device="cpu", batch_size=0)


def test_seeded_generator_is_deterministic():
    a = torch.randn(5, generator=seeded_generator(3))
    b = torch.randn(5, generator=seeded_generator(3))
    assert torch.equal(a, b)


def test_parse_seeds():
    assert parse_seeds("0-3,7") == [0, 1, 2, 3, 7]
    with pytest.raises(UserInputError, match="bad seed list"):
        parse_seeds("a-b")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_runner_on_cuda_matches_cpu_and_autocasts():
    x = torch.randn(33, 8)
    w = torch.randn(8, 4)
    cpu = Runner(device="cpu", batch_size=8, show_progress=False).map(lambda t: t @ w.to(t.device), x)
    gpu = Runner(device="cuda", batch_size=8, show_progress=False).map(lambda t: t @ w.to(t.device), x)
    torch.testing.assert_close(cpu, gpu, atol=1e-4, rtol=1e-4)
    half = Runner(device="cuda", batch_size=8, precision="fp16", show_progress=False)
    with half.autocast():
        y = x.cuda() @ w.cuda()
    assert y.dtype == torch.float16


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_runner_halves_batch_on_cuda_oom():
    sizes = []

    def fn(t):
        sizes.append(t.shape[0])
        if t.shape[0] > 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return t

    out = Runner(device="cuda", batch_size=8, show_progress=False).map(fn, torch.arange(16.0))
    assert torch.equal(out, torch.arange(16.0))
    assert sizes[:3] == [8, 4, 2]
