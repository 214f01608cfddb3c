"""The GUI options form is built from a finder's typed declaration and returns typed, changed values."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from large_gui.widgets.options_form import OptionsForm
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox

from large_toolkit.errors import UserInputError


def test_form_from_the_voynov_declaration(qtbot) -> None:
    from large_voynov.finder import VoynovOptions

    form = OptionsForm()
    qtbot.addWidget(form)
    form.set_options(VoynovOptions, "finder voynov")
    assert isinstance(form.editors["steps"], QSpinBox) and isinstance(form.editors["random_init"], QCheckBox)
    assert isinstance(form.editors["deformator"], QComboBox) and isinstance(form.editors["lr_deformator"], QLineEdit)
    assert form.values() == {}  # nothing changed: defaults stay out of the config (and of cache keys)
    form.set_value("steps", 20)
    form.set_value("deformator", "linear")
    form.set_value("lr_deformator", "0.001")
    form.set_value("random_init", True)
    assert form.values() == {"steps": 20, "deformator": "linear", "lr_deformator": 0.001, "random_init": True}
    form.set_value("lr_deformator", "fast")
    with pytest.raises(UserInputError, match="lr_deformator"):
        form.values()


def test_execution_options_are_not_shown(qtbot) -> None:
    from large_ganspace.finder import GANSpaceOptions

    form = OptionsForm()
    qtbot.addWidget(form)
    form.set_options(GANSpaceOptions)
    assert "engine" not in form.editors and "num_samples" in form.editors


def test_declared_bounds_limit_the_spin_box_and_show_in_the_tooltip(qtbot) -> None:
    from large_ganspace.finder import GANSpaceOptions

    form = OptionsForm()
    qtbot.addWidget(form)
    form.set_options(GANSpaceOptions)
    samples, seed = form.editors["num_samples"], form.editors["seed"]
    assert isinstance(samples, QSpinBox) and isinstance(seed, QSpinBox)
    assert samples.minimum() == 2 and samples.maximum() == 2**31 - 1  # low=2, no upper bound
    assert seed.minimum() == -(2**31 - 1)  # unbounded
    assert "int >= 2" in samples.toolTip() and ">=" not in seed.toolTip()
    form.set_value("num_samples", 0)  # the spin box clamps what is typed to the declared range
    assert samples.value() == 2


def test_a_bounded_text_field_names_its_range(qtbot) -> None:
    from dataclasses import dataclass

    from large_toolkit.options import option

    @dataclass(frozen=True)
    class Shares:
        share: float = option(0.5, "share of the steps", low=0, high=1)

    form = OptionsForm()
    qtbot.addWidget(form)
    form.set_options(Shares, "test")
    line = form.editors["share"]
    assert isinstance(line, QLineEdit) and line.placeholderText() == "float in [0, 1]"
    assert line.toolTip() == "share of the steps (float in [0, 1])"
    form.set_value("share", "2")
    with pytest.raises(UserInputError, match=r"must be in \[0, 1\]"):
        form.values()
