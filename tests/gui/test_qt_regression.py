"""The regression panel: distances, two labels, the displayed MAE equals the core's, folder loading."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from large_gui.render import to_uint8
from large_gui.widgets.regression_panel import format_metric

from large_toolkit.io.images import write_image
from large_toolkit.regression.features import FeatureSpec
from large_toolkit.regression.run import regress
from large_toolkit.types import Latents, LatentSpace

WAIT = 10_000


@pytest.fixture
def window(window, qtbot):
    """The conftest window with the toy finder's directions computed (one is current)."""
    window.directions_panel.finder.setCurrentText("toy")
    window.directions_panel.compute()
    qtbot.waitUntil(lambda: window.directions_panel.list.count() > 0, timeout=WAIT)
    return window


def _samples(gen, n: int = 12):
    import torch

    ws = gen.mapping(gen.sample_z(n, 7))
    ws = ws + 0.3 * torch.randn(ws.shape, generator=torch.Generator().manual_seed(3))  # layers differ, as inverted
    return [f"img{i:02d}" for i in range(n)], Latents(ws, LatentSpace.WPLUS), to_uint8(gen.synthesis(ws))


def _image_folder(gen, tmp_path, n: int = 6):
    """``n`` sample frames written as PNGs, a folder as a user has one; returns the ids and the folder."""
    ids, _latents, frames = _samples(gen, n=n)
    folder = tmp_path / "images"
    folder.mkdir()
    for image_id, frame in zip(ids, frames, strict=True):
        write_image(folder / f"{image_id}.png", frame)
    return ids, folder


def test_two_labels_give_the_cores_mae(window, qtbot, tmp_path):
    gen, state = window.state.generator, window.state
    ids, latents, frames = _samples(gen)
    direction = state.current_direction
    d = latents.tensor @ direction.vector  # [N, num_ws]
    truth = {k: float(2.0 * v + 0.3 * np.sin(i)) for i, (k, v) in enumerate(zip(ids, d.mean(1).tolist(), strict=True))}
    panel = window.regression_panel
    panel.set_data(ids, latents, list(frames), truth)
    assert panel.strip.count() == len(ids)
    assert len(state.regression.suggestions) == 3
    first, last = state.regression.suggestions[:2]  # take the advice: lowest and highest distance
    panel.set_label(first, truth[first])
    assert "2 labels" in panel.metrics.text()  # one label: asks for another
    panel.set_label(last, truth[last])

    rows = [ids.index(first), ids.index(last)]
    core = regress(
        latents, ids, direction, rows, [truth[first], truth[last]], spec=FeatureSpec(combine="mean"), evaluate=False
    )
    test = [i for i in range(len(ids)) if i not in rows]
    core_mae = float(np.abs(core.predictions[test] - np.array([truth[ids[i]] for i in test])).mean())
    assert state.regression.fit.mae == pytest.approx(core_mae, rel=1e-12)
    assert f"MAE {format_metric(core_mae)}" in panel.metrics.text()
    assert np.allclose(state.regression.fit.predictions, core.predictions)
    qtbot.screenshot(window, "regression")


def test_layer_restriction_changes_the_distances(window):
    ids, latents, frames = _samples(window.state.generator)
    window.regression_panel.set_data(ids, latents, list(frames))
    all_layers = window.state.regression.distances.copy()
    window.state.restrict_to_layer(1)
    per_layer = latents.tensor[:, 1] @ window.state.current_direction.vector
    assert np.allclose(window.state.regression.distances, per_layer.numpy())
    assert not np.allclose(all_layers, window.state.regression.distances)


def test_folder_and_labels_csv_through_an_inverter(window, qtbot, tmp_path):
    ids, folder = _image_folder(window.state.generator, tmp_path)
    labels = tmp_path / "labels.csv"
    labels.write_text("id,age\n" + "".join(f"{k}.png,{i * 10}\n" for i, k in enumerate(ids)))
    panel = window.regression_panel
    panel.folder.setText(str(folder))
    panel.labels.setText(str(labels))
    panel.inverter.setCurrentText("toy")
    panel.load()
    qtbot.waitUntil(lambda: window.state.regression.ids == ids, timeout=WAIT)
    assert window.state.regression.truth[ids[3]] == 30.0
    panel.strip.setCurrentRow(0)
    panel.value.setText("12.5")
    panel._enter_value()
    chosen = panel.strip.item(0).data(0x0100)
    assert window.state.regression.labelled == {chosen: 12.5}


def test_label_column_combo_picks_the_ground_truth(window, qtbot, tmp_path):
    ids, folder = _image_folder(window.state.generator, tmp_path)
    labels = tmp_path / "labels.csv"
    labels.write_text("id,age,smile\n" + "".join(f"{k}.png,{i * 10},{-i}\n" for i, k in enumerate(ids)))
    panel = window.regression_panel
    assert not panel.column.isEnabled()
    panel.labels.setText(str(labels))
    assert [panel.column.itemText(i) for i in range(panel.column.count())] == ["age", "smile"]
    panel.column.setCurrentText("smile")
    panel.folder.setText(str(folder))
    panel.inverter.setCurrentText("toy")
    panel.load()
    qtbot.waitUntil(lambda: window.state.regression.ids == ids, timeout=WAIT)
    assert window.state.regression.truth[ids[3]] == -3.0
    panel.set_label(ids[0], 0.0)
    panel.set_label(ids[5], -5.0)
    before = window.state.regression.fit.mae
    panel.column.setCurrentText("age")  # re-scores the loaded images without inverting again
    assert window.state.regression.truth[ids[3]] == 30.0
    assert window.state.regression.labelled == {ids[0]: 0.0, ids[5]: -5.0}
    assert window.state.regression.fit.mae != before
