"""The ground-truth factors of the procedural demo dataset: names, units and ranges.

The table is the contract between the renderer, ``labels.csv`` and the demo benchmark: every
factor is continuous, sampled uniformly in ``[low, high]`` and reported in real units.  Lengths
are in pixels of the 32x32 reference canvas so a label means the same scene at any resolution
(at 64x64 a ``head_size`` of 8 is 16 output pixels).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Factor:
    """One continuous ground-truth factor: what it is, its unit and its sampling range."""

    name: str
    unit: str
    low: float
    high: float
    description: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


FACTORS: tuple[Factor, ...] = (
    Factor(
        "head_size",
        "px@32",
        6.5,
        10.0,
        "vertical semi-axis of the head; the chin is the anchor, so bigger heads also sit higher",
    ),
    Factor(
        "roll",
        "deg",
        -25.0,
        25.0,
        "head tilt about the chin, positive = clockwise on screen; moves the apparent head centre",
    ),
    Factor("x", "px@32", 12.5, 19.5, "horizontal position of the chin (neck anchor)"),
    Factor("y", "px@32", 22.0, 25.5, "vertical position of the chin (neck anchor), down is positive"),
    Factor("hair_hue", "deg", 0.0, 240.0, "hue of the hair colour (HSV hue, 0 = red, 120 = green)"),
    Factor(
        "light_azimuth",
        "deg",
        -60.0,
        60.0,
        "direction of the key light, negative = from the left; shades face, hair and background",
    ),
    Factor(
        "light_intensity",
        "x",
        0.55,
        1.15,
        "key light strength; dim light is also warmer, so it shifts apparent hue like real lighting",
    ),
    Factor("smile", "px@32", -1.2, 1.5, "mouth curvature: depth of the mouth arc, positive = smile, negative = frown"),
)

FACTOR_NAMES: tuple[str, ...] = tuple(f.name for f in FACTORS)


def factor(name: str) -> Factor:
    """Look a factor up by name."""
    for f in FACTORS:
        if f.name == name:
            return f
    raise KeyError(name)


def labels_dtype() -> np.dtype:
    """The structured dtype of a labels table: one float64 field per factor, in table order."""
    return np.dtype([(name, np.float64) for name in FACTOR_NAMES])


def sample_factors(n: int, seed: int) -> np.ndarray:
    """Draw ``n`` factor vectors uniformly in their ranges, as a structured array.

    One ``rng.random((n, F))`` call fills rows in order, so the first ``k`` rows for a seed are the
    same whatever ``n`` is: a 1000-image set is a prefix of the 10000-image set with the same seed.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    u = np.random.default_rng(seed).random((n, len(FACTORS)))
    out = np.empty(n, dtype=labels_dtype())
    for j, f in enumerate(FACTORS):
        out[f.name] = f.low + (f.high - f.low) * u[:, j]
    return out


def factor_table_text() -> str:
    """The factor table as aligned plain text (used in ``--help`` and docs)."""
    lines = [f"{'factor':<16}{'unit':<7}{'low':>7}{'high':>8}  meaning"]
    for f in FACTORS:
        lines.append(f"{f.name:<16}{f.unit:<7}{f.low:>7g}{f.high:>8g}  {f.description}")
    return "\n".join(lines)
