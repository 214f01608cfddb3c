"""Qt-free tests of the explorer state: edit arithmetic, layer restriction, stamps, regression refits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from large_gui.edits import apply_edits, layer_mask, style_delta
from large_gui.regression_model import fit_summary, label_columns, read_labels_csv, suggest_next
from large_gui.state import ExplorerState

from large_toolkit.errors import UserInputError
from large_toolkit.testing import ToyGenerator
from large_toolkit.types import Direction, DirectionSet, LatentSpace


def _dirs(gen: ToyGenerator, n: int = 3) -> DirectionSet:
    q, _ = torch.linalg.qr(torch.randn(gen.w_dim, gen.w_dim, generator=torch.Generator().manual_seed(1)))
    return DirectionSet(
        [Direction(q[:, i].contiguous(), LatentSpace.W, f"d{i}") for i in range(n)], torch.tensor([3.0, 2.0, 1.0])
    )


@pytest.fixture
def state() -> ExplorerState:
    s = ExplorerState()
    s.set_generator(ToyGenerator(), "toy")
    return s


def test_seed_and_psi_resample_the_base_code(state):
    first = state.base_ws.clone()
    state.set_seed(1)
    assert not torch.equal(first, state.base_ws)
    state.set_seed(0)
    assert torch.equal(first, state.base_ws)  # reproducible
    state.set_psi(0.0)
    assert torch.allclose(state.base_ws, state.generator.w_avg.expand_as(state.base_ws))


def test_change_callbacks_carry_topics(state):
    topics: list[str] = []
    state.changed.connect(topics.append)
    state.set_directions(_dirs(state.generator))
    state.set_alpha(0, 1.5)
    state.restrict_to_layer(2)
    state.reset_alphas()
    assert topics == ["directions", "current", "alpha", "layers", "alpha"]


def test_w_mode_edits_every_layer(state):
    state.set_directions(_dirs(state.generator))
    state.set_selected(0, True)  # nothing is ticked after a compute
    state.set_alpha(0, 2.0)
    ws, offset = state.edited_ws()
    d = state.entries[0].direction.vector
    assert offset is None
    assert torch.allclose(ws, state.base_ws + 2.0 * d)


def test_layer_range_restricts_the_edit_and_switches_to_wplus(state):
    state.set_directions(_dirs(state.generator))
    state.set_selected(0, True)  # nothing is ticked after a compute
    state.set_selected(1, True)
    state.set_alpha(0, 2.0)
    state.set_alpha(1, -1.0)
    state.set_layer_range(1, 2)
    assert state.mode == "wplus" and state.edit_indices() == [1, 2]
    ws, _ = state.edited_ws()
    d0, d1 = state.entries[0].direction.vector, state.entries[1].direction.vector
    expected = state.base_ws.clone()
    expected[1:3] += 2.0 * d0 - 1.0 * d1  # the sum of every active slider, on the chosen rows only
    assert torch.allclose(ws, expected)
    assert torch.equal(ws[0], state.base_ws[0]) and torch.equal(ws[3], state.base_ws[3])


def test_unselecting_a_direction_drops_its_slider_value(state):
    state.set_directions(_dirs(state.generator))
    state.set_selected(0, True)  # nothing is ticked after a compute
    state.set_alpha(0, 3.0)
    state.set_selected(0, False)
    assert state.entries[0].alpha == 0.0
    ws, _ = state.edited_ws()
    assert torch.equal(ws, state.base_ws)


def test_render_requests_are_stamped_in_order(state):
    a, b = state.render_request(), state.render_request()
    assert b.stamp > a.stamp == 1 and state.latest_stamp == b.stamp


def test_s_direction_edits_only_styles_of_selected_layers():
    gen = ToyGenerator()
    vec = torch.ones(gen.style_dim)
    direction = Direction(vec, LatentSpace.S, "s", style_layers=gen.style_layers)
    ws = torch.zeros(gen.num_ws, gen.w_dim)
    out, offset = apply_edits(ws, [(direction, 0.5)], [1], gen.style_layers)
    assert torch.equal(out, ws)
    channels = gen.style_layers[0].channels
    expected = torch.zeros(gen.style_dim)
    expected[channels : 2 * channels] = 0.5
    assert torch.equal(offset, expected)
    assert style_delta(direction, gen.style_layers, layer_mask(gen.num_ws, None)).sum() == gen.style_dim


def test_new_generator_clears_directions_and_regression(state):
    state.set_directions(_dirs(state.generator))
    state.set_generator(ToyGenerator(seed=3), "toy")
    assert state.entries == [] and state.current is None and state.regression.ids == []


def test_regression_refits_when_a_label_is_entered(state):
    ids = [f"img{i}" for i in range(6)]
    distances = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0])
    truth = {k: 2.0 * d + 1.0 for k, d in zip(ids, distances, strict=True)}
    state.set_regression_data(ids, distances, truth)
    assert state.regression.fit is None and state.regression.suggestions == ["img1", "img2", "img4"]  # the core's
    state.set_label("img0", truth["img0"])
    assert state.regression.error and "2 labels" in state.regression.error
    state.set_label("img5", truth["img5"])
    fit = state.regression.fit
    assert fit is not None and fit.n_labels == 2
    assert fit.slope == pytest.approx(2.0) and fit.intercept == pytest.approx(1.0)
    assert fit.mae == pytest.approx(0.0, abs=1e-9) and fit.r2 == pytest.approx(1.0)
    state.set_label("img5", None)
    assert state.regression.fit is None


def test_fit_summary_scores_only_unlabelled_images():
    ids = ["a", "b", "c", "d"]
    distances = np.array([0.0, 1.0, 2.0, 3.0])
    truth = {"a": 0.0, "b": 1.5, "c": 2.0, "d": 3.0}
    fit = fit_summary(ids, distances, {"a": 0.0, "d": 3.0}, truth)
    assert fit.mae == pytest.approx((0.5 + 0.0) / 2)


def test_suggestions_are_the_cores():
    from large_toolkit.regression.advice import suggest_labels

    ids = [f"i{j}" for j in range(40)]
    distances = np.random.default_rng(0).normal(size=40)
    core = suggest_labels(distances, 2, [3]).rows.tolist()
    assert suggest_next(ids, distances, {"i3": 1.0}, k=2) == [ids[j] for j in core]
    assert suggest_next(ids, distances, {}, k=3) == [ids[j] for j in suggest_labels(distances, 3).rows.tolist()]


def test_label_columns_match_what_the_core_reader_accepts(tmp_path):
    comma = tmp_path / "labels.csv"
    comma.write_text("image,head_size,light_intensity\na.png,7.0,0.8\nb.png,9.0,1.1\n")
    assert label_columns(str(comma)) == ["head_size", "light_intensity"]
    assert read_labels_csv(str(comma), "light_intensity") == {"a": 0.8, "b": 1.1}
    with pytest.raises(UserInputError, match="2 label columns"):  # no column: an error, as the CLI
        read_labels_csv(str(comma))
    spaced = tmp_path / "labels.txt"
    spaced.write_text("id age\na 3\n")
    assert label_columns(str(spaced)) == ["age"]
    assert label_columns(str(tmp_path / "missing.csv")) == []


def test_a_direction_can_have_its_own_layer_range(state):
    state.set_directions(_dirs(state.generator))
    state.set_selected(0, True)
    state.set_selected(1, True)
    state.set_alpha(0, 2.0)
    state.set_alpha(1, -1.0)
    state.set_entry_layers(1, "2-3")
    ws, _ = state.edited_ws()
    delta = ws - state.base_ws
    d0, d1 = (state.entries[i].direction.vector.float() for i in (0, 1))
    for row in range(state.num_ws):
        expected = 2.0 * d0 + (-1.0 * d1 if row in (2, 3) else 0.0)
        assert torch.allclose(delta[row], expected, atol=1e-5)
    state.set_entry_layers(1, "")
    assert state.entries[1].layers is None
