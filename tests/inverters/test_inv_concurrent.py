"""Two ``invert`` runs on one ``--out``; a kill between the final save and the clean-up."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from pathlib import Path

import pytest
import torch
from large_inverters import job as job_module
from large_inverters.job import InvertJob, run_job

from large_toolkit.io.artifacts import load_latents
from large_toolkit.plugins import get_host
from large_toolkit.testing import ToyGenerator
from large_toolkit.types import LatentSpace


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.slow
def test_second_run_on_the_same_out_is_refused_naming_the_first(tmp_path, write_toy_images, toy_cli):
    # The first run is held inside its first chunk (lock taken, nothing finished) until the second
    # has been answered, so the refusal does not depend on how fast either process starts or runs.
    write_toy_images(tmp_path / "imgs", 12)
    args = ["--device", "cpu", "invert", "--backend", "toy", "--inverter", "optim", "--steps", "2", "--images", "imgs"]
    args += ["--batch-size", "2", "--json", "--out", "lat.safetensors"]
    gate = tmp_path / "gate"
    first = toy_cli(args, tmp_path, gate=gate)
    try:
        _wait_for_lock(tmp_path / ".lat.safetensors.lock", first)
        second = toy_cli(args, tmp_path)
        out2, err2 = second.communicate(timeout=120)
    finally:
        gate.touch()
    out1, err1 = first.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert second.returncode == 2 and out2 == "", err2
    lines = [ln for ln in err2.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"another invert run (pid {first.pid}) is writing" in lines[0], lines
    lat, ids, _ = load_latents(tmp_path / "lat.safetensors")
    assert ids == [f"img{i:04d}.png" for i in range(12)] and lat.tensor.shape[0] == 12
    assert json.loads(out1)["images"] == 12
    assert _leftovers(tmp_path) == []  # no .parts, no .lock, no temp files


def _wait_for_lock(lock: Path, run: subprocess.Popen) -> None:
    """Return once ``run`` holds the output lock (its pid is in the lock file); fail if it ends first."""
    deadline = time.monotonic() + 120  # a hang guard only: the run holds the lock until its gate opens
    while time.monotonic() < deadline and run.poll() is None:
        with contextlib.suppress(OSError):
            if lock.read_text().strip() == str(run.pid):
                return
        time.sleep(0.05)
    run.kill()
    _, err = run.communicate()
    pytest.fail(f"the first run never took the output lock (exit {run.returncode}): {err[-2000:]}")


def _job(tmp_path: Path, paths: list[Path]) -> InvertJob:
    g = ToyGenerator()
    inv = get_host().inverter("optim").create(g, num_steps=5, seed=0)
    return InvertJob(paths, tmp_path / "o.safetensors", inv, "optim", g, LatentSpace.W, 3)


def test_kill_between_final_save_and_cleanup_is_repaired(tmp_path, monkeypatch, write_toy_images):
    paths = write_toy_images(tmp_path / "imgs", 7)
    reference = run_job(_job(tmp_path / "ref", paths))
    original = job_module._write_report

    def killed(*args, **kwargs):
        raise SystemExit(137)  # the process dies after save_latents, before the report and the clean-up

    monkeypatch.setattr(job_module, "_write_report", killed)
    with pytest.raises(SystemExit):
        run_job(_job(tmp_path, paths))
    assert (tmp_path / "o.safetensors").is_file() and (tmp_path / ".o.safetensors.parts").is_dir()
    assert not (tmp_path / "o.report.json").exists()
    monkeypatch.setattr(job_module, "_write_report", original)
    summary = run_job(_job(tmp_path, paths))
    assert summary["computed"] == 0 and summary["resumed_skipped"] == 7
    assert (tmp_path / "o.report.json").is_file() and (tmp_path / "o.preview.png").is_file()
    assert _leftovers(tmp_path) == []
    lat, ids, _ = load_latents(tmp_path / "o.safetensors")
    ref, ref_ids, _ = load_latents(Path(reference["out"]))
    assert ids == ref_ids and torch.equal(lat.tensor, ref.tensor)
    again = run_job(_job(tmp_path, paths))  # now complete: nothing to do
    assert again.get("already_complete") is True
