"""The bundled demo: `large-tk regress --backend stylegan2 --direction sefa:3` with no data of one's own."""

import json

import pytest
from typer.testing import CliRunner

from large_toolkit.cli.app import build_app


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LARGE_TK_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.slow
def test_demo_regress_runs_offline_and_reuses_cached_latents(tmp_path, cache):
    args = ["regress", "--backend", "stylegan2", "--direction", "sefa:3", "--repeats", "200"]
    args += ["--out", str(tmp_path / "o")]
    first = CliRunner().invoke(build_app(), [*args, "--json"])
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert data["factor"] == "light_intensity" and data["spearman"] > 0.9
    assert data["latents_cached"] is False
    rows = {r["n"]: r for r in data["protocol"]["rows"]}
    assert set(rows) == {2, 5, 10, 20, "all"}
    # two labels already calibrate the attribute: R^2 well above chance, and more labels help
    assert rows[2]["r2_mean"] > 0.6 and rows[20]["mae_mean"] < rows[2]["mae_mean"]
    for name in ("predictions.csv", "results.json", "scatter.png", "strip.png", "regressor.safetensors"):
        assert (tmp_path / "o" / name).is_file()
    assert list((cache / "latents").glob("*.safetensors"))

    second = CliRunner().invoke(build_app(), args)
    assert second.exit_code == 0, second.output
    assert "latents from cache" in second.stdout and "light_intensity" in second.stdout


def test_demo_rejects_labels_without_images(cache):
    result = CliRunner().invoke(build_app(), ["regress", "--direction", "sefa:3", "--label", "a=1"])
    assert result.exit_code == 2
    assert "labels need --images or --latents" in result.stderr


def test_unknown_finder_is_one_line(cache):
    result = CliRunner().invoke(build_app(), ["regress", "--direction", "nosuch:3"])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "nosuch" in result.stderr
