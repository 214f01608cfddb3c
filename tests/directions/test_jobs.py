"""The direction jobs the CLI and the GUI share: summaries, dominant layers, set selection, find + write."""

from __future__ import annotations

import torch

from large_toolkit.direction_jobs.sets import find_set, needs_generator, selected_set
from large_toolkit.direction_jobs.summary import dominant_layers, set_summary
from large_toolkit.types import Direction, DirectionSet, LatentSpace


def _masked(*slots: int) -> Direction:
    mask = torch.zeros(8, dtype=torch.bool)
    mask[list(slots)] = True
    return Direction(torch.ones(4), LatentSpace.W, "d", layer_mask=mask)


def test_dominant_layers_without_a_generator() -> None:
    assert dominant_layers(_masked(3), None) == "w3"
    assert dominant_layers(_masked(0, 1, 2, 3), None) == "w0-3"
    assert dominant_layers(_masked(1, 4), None) == "w1,4"
    assert dominant_layers(Direction(torch.ones(4), LatentSpace.W, "d"), None) == "all"
    wplus = torch.zeros(5, 4)
    wplus[2], wplus[4], wplus[0] = 3.0, 2.0, 1.0
    assert dominant_layers(Direction(wplus, LatentSpace.WPLUS, "d"), None) == "w2,w4,w0"


def test_summary_rows_and_light_metadata() -> None:
    dirs = DirectionSet(
        [Direction(torch.ones(4), LatentSpace.W, f"d{i}") for i in range(3)],
        torch.tensor([3.0, 2.0, 1.0]),
        "eigenvalue",
        {"finder": "sefa", "mean": [0.0] * 4},
    )
    summary = set_summary(dirs, None, limit=2)
    assert summary["count"] == 3 and summary["metadata"] == {"finder": "sefa"}
    assert [(r["name"], r["score"], r["dominant_layers"]) for r in summary["directions"]] == [
        ("d0", 3.0, "all"),
        ("d1", 2.0, "all"),
    ]


def test_find_writes_and_a_keyed_spec_selects_one(tmp_path, toy_backend, toy32) -> None:
    out = tmp_path / "sefa.safetensors"
    reports: list[tuple[str, int, int]] = []
    dirs = find_set("sefa", toy32, {"num": 4}, progress=lambda *r: reports.append(r), out=str(out))
    assert len(dirs) == 4 and out.is_file()
    assert not needs_generator(f"file:{out}") and needs_generator("sefa:1")
    one = selected_set(f"file:{out}:1", None)
    assert [d.name for d in one.directions] == [dirs.directions[1].name]
    assert one.scores is not None and dirs.scores is not None and float(one.scores[0]) == float(dirs.scores[1])
