"""Every hostile file (see hostile_corpus.py) fed to every loading command: refused in one line, exit 2.

Measured: 0 canaries, 0 crashes, nothing left behind, and the driver's peak RSS (all runs in one
process, ``resource.getrusage``) stays within ``MEMORY_BOUND_MB`` of its start-up RSS -- the
stride/size/zip bombs in the corpus would otherwise need 1.6 GB to 4 TB.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from large_toolkit.errors import LargeTkError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _corpus_module():
    """``hostile_corpus.py`` beside this file (tests run with --import-mode=importlib: no sys.path entry)."""
    if "hostile_corpus" not in sys.modules:
        spec = importlib.util.spec_from_file_location("hostile_corpus", HERE / "hostile_corpus.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["hostile_corpus"] = module
        spec.loader.exec_module(module)
    return sys.modules["hostile_corpus"]


#: Peak RSS growth allowed over the driver's start-up (torch + plugins loaded), in MB.
MEMORY_BOUND_MB = 300


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    files, canary = base / "files", base / "canary"
    items = _corpus_module().build_corpus(files, canary)
    return files, canary, items


def _env() -> dict[str, str]:
    env = dict(os.environ)
    parts = [str(ROOT), str(ROOT / "plugins"), str(ROOT / "gui"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in parts if p)
    env.pop("LARGE_TK_DEBUG", None)
    return env


def _one_error_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and "\x1b" not in lines[0], lines[0]
    return lines[0]


def test_corpus_is_hostile_and_complete(corpus):
    files, _, items = corpus
    names = {i.name for i in items}
    assert len(items) >= 40 and all((files / n).exists() for n in names)
    assert {i.family for i in items} == {"checkpoint", "direction", "artifact"}


def test_readers_refuse_every_file_in_process(corpus):
    from large_toolkit.io.artifacts import load_tensors
    from large_toolkit.io.checkpoint import read_checkpoint, read_torch_checkpoint
    from large_toolkit.io.direction_formats import load_direction_file

    files, canary, items = corpus
    for item in items:
        readers = {
            "checkpoint": [read_checkpoint] + ([read_torch_checkpoint] if item.name.endswith(".pt") else []),
            "direction": [load_direction_file],
            "artifact": [load_tensors],
        }[item.family]
        for reader in readers:
            with pytest.raises(LargeTkError) as info:
                reader(files / item.name)
            assert info.value.exit_code == 2, (item.name, info.value)
            assert "\n" not in str(info.value) and "\x1b" not in str(info.value), item.name
    assert list(canary.iterdir()) == []


def _jobs(files: Path, work: Path, items) -> list[dict]:
    from large_toolkit.io.images import write_image as write_png

    images = work / "images"
    images.mkdir()
    write_png(images / "a.png", np.zeros((32, 32, 3), dtype=np.uint8))
    write_png(images / "b.png", np.full((32, 32, 3), 200, dtype=np.uint8))
    jobs = []
    for item in items:
        f = str(files / item.name)
        if item.family == "checkpoint":
            commands = [
                ["generate", "--checkpoint", f, "--seeds", "0", "--out", "{out}/g.png"],
                ["generate", "--backend", "stylegan3", "--checkpoint", f, "--seeds", "0", "--out", "{out}/g.png"],
                ["convert", f, "{out}/c.safetensors"],
                ["directions", "find", "sefa", "--backend", "stylegan2", "--checkpoint", f, "--out", "{out}/d.npz"],
                ["train-encoder", "--backend", "stylegan2", "--checkpoint", f, "--steps", "1", "--out", "{out}/e"],
                ["fid", "--checkpoint", f, "--real", str(images), "--n", "2"],
                ["fid", "--real", str(images), "--n", "2", "--extractor", "inception", "--inception-weights", f],
                [
                    "invert",
                    "--images",
                    str(images / "a.png"),
                    "--out",
                    "{out}/l.safetensors",
                    "--inverter",
                    "e4e",
                    "--inverter-checkpoint",
                    f,
                ],
            ]
        elif item.family == "direction":
            commands = [["directions", "show", f], ["directions", "export", f, "--out", "{out}/x.npy"]]
        else:
            commands = [
                ["directions", "show", f],
                [
                    "regress",
                    "--backend",
                    "stylegan2",
                    "--latents",
                    f,
                    "--direction",
                    "sefa:0",
                    "--label",
                    "a=1",
                    "--label",
                    "b=2",
                ],
            ]
        for k, args in enumerate(commands):
            out = work / "out" / f"{item.name}-{k}"
            out.mkdir(parents=True)
            jobs.append({"args": [a.replace("{out}", str(out)) for a in args], "out_dir": str(out)})
    return jobs


@pytest.mark.slow
def test_every_loading_command_refuses_every_file(corpus, tmp_path):
    files, canary, items = corpus
    before = sorted(p.name for p in files.iterdir())
    jobs = _jobs(files, tmp_path, items)
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))
    proc = subprocess.run(
        [sys.executable, str(HERE / "drive_commands.py"), str(tmp_path / "jobs.json")],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]  # a segfault would end the driver with -11
    report = json.loads(proc.stdout.splitlines()[-1])
    failures = []
    for result in report["results"]:
        lines = [ln for ln in result["stderr"].splitlines() if ln.strip()]
        ok = result["code"] == 2 and len(lines) == 1 and lines[0].startswith("error: ") and not result["left"]
        if not ok or "\x1b" in result["stderr"]:
            failures.append((result["args"], result["code"], lines[-3:], result["left"]))
    assert not failures, failures[:5]
    assert list(canary.iterdir()) == []
    assert sorted(p.name for p in files.iterdir()) == before  # nothing written beside the inputs
    growth_mb = (report["peak_rss_kb"] - report["base_rss_kb"]) / 1024
    print(f"{len(report['results'])} runs; peak RSS {report['peak_rss_kb'] // 1024} MB, growth {growth_mb:.0f} MB")
    assert growth_mb < MEMORY_BOUND_MB


@pytest.mark.parametrize(
    "name,args",
    [
        ("object_array_from_bytes.pkl", ["convert", "{f}", "{tmp}/out.safetensors"]),
        ("stride0_bomb.pkl", ["generate", "--checkpoint", "{f}", "--seeds", "0", "--out", "{tmp}/g.png"]),
        ("npz_object.npz", ["directions", "show", "{f}"]),
    ],
)
@pytest.mark.slow
def test_real_processes_end_in_one_line(corpus, tmp_path, name, args):
    files, canary, _ = corpus
    argv = [a.replace("{f}", str(files / name)).replace("{tmp}", str(tmp_path)) for a in args]
    proc = subprocess.run(
        [sys.executable, "-m", "large_toolkit", *argv], capture_output=True, text=True, env=_env(), timeout=300
    )
    assert proc.returncode == 2, proc.stderr
    _one_error_line(proc.stderr)
    assert list(tmp_path.iterdir()) == [] and list(canary.iterdir()) == []
