"""A form built from a plugin's typed options declaration (``large_toolkit.options``).

The same dataclass that types ``--option k=v`` and direction specs drives this
form: ints get a spin box (limited to the declared bounds), booleans a check box,
choices a combo box, files a browse button, everything else a text field; a
bounded option names its range in its tooltip (and a text field's placeholder).  :meth:`OptionsForm.values`
returns only the options the user changed, typed by the declaration, so the
result merges with free-text overrides and keeps cache keys small.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from large_toolkit.options import OptionInfo, coerce, describe

INT_LIMIT = 2**31 - 1


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _int_range(info: OptionInfo) -> tuple[int, int]:
    """The spin box range: the declared inclusive bounds (rounded inward), else the widest a QSpinBox holds."""
    low = -INT_LIMIT if info.low is None else max(math.ceil(info.low), -INT_LIMIT)
    high = INT_LIMIT if info.high is None else min(math.floor(info.high), INT_LIMIT)
    return low, high


def _tooltip(info: OptionInfo) -> str:
    """The help text, then the allowed range when the declaration bounds the option (the core refuses the rest)."""
    if not info.bounds_text:
        return info.help
    return f"{info.help} ({info.type_name} {info.bounds_text})" if info.help else f"{info.type_name} {info.bounds_text}"


class OptionsForm(QWidget):
    """One labelled editor per declared option; rebuilt by :meth:`set_options`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QFormLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.infos: list[OptionInfo] = []
        self.editors: dict[str, QWidget] = {}
        self.owner = ""

    def set_options(self, options_cls: type | None, owner: str = "") -> None:
        """Show the options of ``options_cls`` (None: an empty form)."""
        while self.layout_.rowCount():
            self.layout_.removeRow(0)
        self.infos = describe(options_cls) if options_cls is not None else []
        self.editors, self.owner = {}, owner
        for info in self.infos:
            if info.execution:
                continue  # where the work runs is not a GUI choice
            editor = self._editor(info)
            editor.setToolTip(_tooltip(info))
            self.editors[info.name] = editor
            self.layout_.addRow(info.name, self._with_browse(editor) if info.path else editor)

    def _editor(self, info: OptionInfo) -> QWidget:
        if info.choices is not None:
            combo = QComboBox()
            combo.addItems([str(c) for c in info.choices])
            combo.setCurrentText(str(info.default))
            return combo
        if info.kind is bool:
            box = QCheckBox()
            box.setChecked(bool(info.default))
            return box
        if info.kind is int and not info.optional:
            spin = QSpinBox()
            spin.setRange(*_int_range(info))
            spin.setValue(int(info.default))
            return spin
        line = QLineEdit(_text(info.default))
        line.setPlaceholderText(f"{info.type_name} {info.bounds_text}".strip())
        return line

    def _with_browse(self, line: QWidget) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(line, 1)
        button = QPushButton("…")
        button.setMaximumWidth(28)

        def browse() -> None:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a file")
            if path and isinstance(line, QLineEdit):
                line.setText(path)

        button.clicked.connect(browse)
        layout.addWidget(button)
        return row

    def raw(self, name: str) -> Any:
        """The editor's current content (text for text fields)."""
        editor = self.editors[name]
        if isinstance(editor, QComboBox):
            return editor.currentText()
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QSpinBox):
            return editor.value()
        assert isinstance(editor, QLineEdit)
        return editor.text()

    def set_value(self, name: str, value: Any) -> None:
        """Put ``value`` in an editor (tests, presets)."""
        editor = self.editors[name]
        if isinstance(editor, QComboBox):
            editor.setCurrentText(str(value))
        elif isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QSpinBox):
            editor.setValue(int(value))
        elif isinstance(editor, QLineEdit):
            editor.setText(_text(value))

    def values(self) -> dict[str, Any]:
        """The changed options, typed; a bad entry raises the core's one-line ``UserInputError``."""
        out = {}
        for info in self.infos:
            if info.name not in self.editors:
                continue
            value = coerce(info, self.raw(info.name), self.owner or "the finder")
            if value != info.default:
                out[info.name] = value
        return out
