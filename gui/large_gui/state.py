"""The explorer's Qt-free state model (the napari ``ViewerModel`` idea).

Everything the user can change lives here with plain change callbacks, so the
logic — which code is rendered, which layers an edit touches, which labels the
regression uses — is unit-testable without a display.  Widgets read from it and
call its setters; they never keep their own copy of the truth.

:meth:`ExplorerState.render_request` freezes the current edit into an immutable
:class:`RenderRequest` that a background worker can render while the user keeps
moving sliders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from large_gui.edits import apply_edits
from large_toolkit.types import Direction, DirectionSet

if TYPE_CHECKING:
    from large_toolkit.interfaces import Generator

Callback = Callable[..., None]


class Event:
    """A minimal signal: a list of callbacks called in order with the emitted arguments."""

    def __init__(self) -> None:
        self._callbacks: list[Callback] = []

    def connect(self, callback: Callback) -> Callback:
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callback) -> None:
        self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            callback(*args)


@dataclass
class DirectionEntry:
    """One direction in the list: its score, whether it has a slider, and the slider value."""

    direction: Direction
    score: float | None = None
    selected: bool = False
    alpha: float = 0.0
    layers: list[int] | None = None  # this direction's own w rows; None = the panel's range

    @property
    def label(self) -> str:
        score = "" if self.score is None else f"  ({self.score:.3g})"
        return f"{self.direction.name or '(unnamed)'}{score}"


@dataclass(frozen=True)
class RenderRequest:
    """An immutable snapshot of what to draw; ``stamp`` orders requests (latest wins)."""

    stamp: int
    ws: torch.Tensor  # [num_ws, w_dim], already edited
    style_offset: torch.Tensor | None  # flat S offset when an S direction is active


@dataclass
class FitSummary:
    """What the regression panel shows: the fitted line and its errors on the unlabelled images."""

    slope: float
    intercept: float
    predictions: np.ndarray
    mae: float | None
    r2: float | None
    n_labels: int


@dataclass
class RegressionState:
    """Regression panel data: images, their distances, ground truth and the user's few labels."""

    image_folder: str | None = None
    labels_path: str | None = None
    latents: Any = None  # Latents of the images, kept so a new direction only recomputes distances
    thumbnails: list[np.ndarray] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    distances: np.ndarray | None = None
    truth: dict[str, float] = field(default_factory=dict)
    labelled: dict[str, float] = field(default_factory=dict)
    fit: FitSummary | None = None
    suggestions: list[str] = field(default_factory=list)
    error: str | None = None


MODES = ("w", "wplus")


class ExplorerState:
    """Current generator, latent, directions, slider values, layer range and regression data.

    ``changed`` is emitted with a topic string: ``generator``, ``latent``,
    ``directions``, ``selection``, ``alpha``, ``layers``, ``importance``,
    ``current`` or ``regression``.  Widgets refresh what the topic concerns, and
    the window re-renders on anything that changes the image.
    """

    IMAGE_TOPICS = frozenset({"generator", "latent", "selection", "alpha", "layers"})

    def __init__(self) -> None:
        self.changed = Event()
        self.generator: Generator | None = None
        self.generator_name: str = ""
        self.checkpoint: str | None = None
        self.seed: int = 0
        self.psi: float = 0.7
        self.mode: str = "w"
        self.base_ws: torch.Tensor | None = None  # [num_ws, w_dim]
        self.base_source: str = "seed"
        self.entries: list[DirectionEntry] = []
        self.score_name: str = "score"
        self.current: int | None = None
        self.layers: list[int] = []
        self.importance: list[float] | None = None
        self.regression = RegressionState()
        self._stamp = 0

    # -- generator and latent ---------------------------------------------------------------

    def set_generator(self, generator: Generator, name: str = "", checkpoint: str | None = None) -> None:
        """Adopt a new model: directions and regression data of the old one no longer apply."""
        self.generator, self.generator_name, self.checkpoint = generator, name, checkpoint
        self.layers = list(range(generator.num_ws))
        self.entries, self.current, self.importance = [], None, None
        self.regression = RegressionState()
        self._resample()
        self.changed.emit("generator")

    @property
    def num_ws(self) -> int:
        return 0 if self.generator is None else int(self.generator.num_ws)

    def set_seed(self, seed: int) -> None:
        self.seed = int(seed)
        self._resample()
        self.changed.emit("latent")

    @property
    def truncates(self) -> bool:
        """Whether the generator declares truncation (else psi is fixed at 1 and the control is disabled)."""
        from large_toolkit.interfaces import Capability

        return self.generator is not None and self.generator.has(Capability.TRUNCATION)

    @property
    def effective_psi(self) -> float:
        return self.psi if self.truncates else 1.0

    def set_psi(self, psi: float) -> None:
        self.psi = float(psi)
        self._resample()
        self.changed.emit("latent")

    def set_mode(self, mode: str) -> None:
        """``w``: edits hit every layer (the code stays one W); ``wplus``: the layer range applies."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if mode != self.mode:
            self.mode = mode
            self.changed.emit("layers")

    def set_base_latent(self, ws: torch.Tensor, source: str = "inverted") -> None:
        """Start from a given W+ code (an inverted image); ``[num_ws, w_dim]`` or ``[1, num_ws, w_dim]``."""
        if ws.ndim == 3:
            ws = ws[0]
        self.base_ws = ws.detach().to("cpu", torch.float32)
        self.base_source = source
        self.changed.emit("latent")

    def _resample(self) -> None:
        gen = self.generator
        if gen is None:
            return
        with torch.inference_mode():
            z = gen.sample_z(1, self.seed)
            self.base_ws = gen.mapping(z, psi=self.effective_psi)[0].detach().to("cpu", torch.float32).clone()
        self.base_source = "seed"

    # -- directions -------------------------------------------------------------------------

    def set_directions(self, dirs: DirectionSet) -> None:
        """Replace the list; nothing is ticked (the user picks which directions get a slider)."""
        scores = None if dirs.scores is None else [float(s) for s in torch.as_tensor(dirs.scores).flatten()]
        self.entries = [
            DirectionEntry(d, None if scores is None else scores[i], selected=False)
            for i, d in enumerate(dirs.directions)
        ]
        self.score_name = dirs.score_name
        self.current = 0 if self.entries else None
        self.importance = None
        self.changed.emit("directions")
        self.changed.emit("current")

    def direction_set(self) -> DirectionSet:
        """The list as a DirectionSet (for saving)."""
        scores = [e.score for e in self.entries]
        tensor = None if any(s is None for s in scores) else torch.tensor(scores, dtype=torch.float64)
        return DirectionSet([e.direction for e in self.entries], tensor, self.score_name)

    def set_selected(self, index: int, selected: bool) -> None:
        """Give a direction a slider (or take it away, resetting its value)."""
        entry = self.entries[index]
        entry.selected = bool(selected)
        if not selected:
            entry.alpha = 0.0
        self.changed.emit("selection")

    def set_current(self, index: int | None) -> None:
        """The direction the layers view and the regression panel look at."""
        if index != self.current:
            self.current = index
            self.importance = None
            self.changed.emit("current")

    @property
    def current_direction(self) -> Direction | None:
        if self.current is None or not 0 <= self.current < len(self.entries):
            return None
        return self.entries[self.current].direction

    def set_alpha(self, index: int, alpha: float) -> None:
        self.entries[index].alpha = float(alpha)
        self.changed.emit("alpha")

    def reset_alphas(self) -> None:
        for entry in self.entries:
            entry.alpha = 0.0
        self.changed.emit("alpha")

    def selected_indices(self) -> list[int]:
        return [i for i, e in enumerate(self.entries) if e.selected]

    # -- layers -----------------------------------------------------------------------------

    def set_layer_range(self, start: int, end: int) -> None:
        """Edit only w indices ``start..end`` (inclusive); switches to W+ since W cannot differ per layer."""
        lo, hi = sorted((int(start), int(end)))
        lo, hi = max(lo, 0), min(hi, self.num_ws - 1)
        self.layers = list(range(lo, hi + 1))
        self.mode = "wplus"
        self.changed.emit("layers")

    def restrict_to_layer(self, index: int) -> None:
        """Clicking a bar in the layers view: edits go to this one w index only."""
        self.set_layer_range(index, index)

    def all_layers(self) -> None:
        self.layers = list(range(self.num_ws))
        self.changed.emit("layers")

    def edit_indices(self) -> list[int] | None:
        """The w indices that receive the edit: the range in W+ mode; None in W mode.

        None lets each direction decide (its own layer mask, else every row), which
        is what ``large-tk directions edit`` does without ``--layers``.
        """
        if self.mode == "w":
            return None
        return list(self.layers)

    def set_importance(self, values: Sequence[float] | None) -> None:
        self.importance = None if values is None else [float(v) for v in values]
        self.changed.emit("importance")

    # -- rendering --------------------------------------------------------------------------

    def active_edits(self) -> list[tuple[Direction, float, list[int] | None]]:
        return [(e.direction, e.alpha, e.layers) for e in self.entries if e.selected and e.alpha != 0.0]

    def set_entry_layers(self, index: int, spec: str) -> None:
        """A layer range for one direction (``2-5``, ``0,3``; empty or ``all`` = the panel's range)."""
        from large_toolkit.interfaces import layer_indices

        text = spec.strip().lower()
        self.entries[index].layers = None if text in ("", "all") else layer_indices(text, self.num_ws)
        self.changed.emit("layers")

    def edited_ws(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The base code with every active slider applied to the chosen w indices."""
        if self.generator is None or self.base_ws is None:
            raise RuntimeError("no generator loaded")
        return apply_edits(self.base_ws, self.active_edits(), self.edit_indices(), self.generator.style_layers)

    def render_request(self) -> RenderRequest:
        """Freeze the current edit with a new, larger stamp."""
        ws, offset = self.edited_ws()
        self._stamp += 1
        return RenderRequest(self._stamp, ws, offset)

    @property
    def latest_stamp(self) -> int:
        return self._stamp

    # -- regression -------------------------------------------------------------------------

    def set_regression_data(
        self,
        ids: Sequence[str],
        distances: np.ndarray,
        truth: dict[str, float] | None = None,
        image_folder: str | None = None,
        labels_path: str | None = None,
    ) -> None:
        """New images and their distances along the current direction; keeps labels still valid."""
        reg = self.regression
        reg.ids = list(ids)
        reg.distances = np.asarray(distances, dtype=np.float64)
        reg.truth = dict(truth or {})
        reg.image_folder, reg.labels_path = image_folder, labels_path
        reg.labelled = {k: v for k, v in reg.labelled.items() if k in set(reg.ids)}
        reg.error = None
        self._refit()

    def set_label(self, image_id: str, value: float | None) -> None:
        """Enter (or clear, with None) the label of one image; the fit is redone at once."""
        if image_id not in self.regression.ids:
            raise KeyError(f"unknown image {image_id!r}")
        if value is None:
            self.regression.labelled.pop(image_id, None)
        else:
            self.regression.labelled[image_id] = float(value)
        self._refit()

    def _refit(self) -> None:
        from large_gui.regression_model import fit_summary, suggest_next

        reg = self.regression
        reg.fit, reg.error = None, None
        if reg.distances is not None:
            try:
                reg.fit = fit_summary(reg.ids, reg.distances, reg.labelled, reg.truth)
            except ValueError as exc:
                reg.error = str(exc)
            reg.suggestions = suggest_next(reg.ids, reg.distances, reg.labelled, k=3)  # = suggest-labels --k 3
        self.changed.emit("regression")
