"""Declared option bounds: a number outside ``low``/``high`` is refused in one line, before any work."""

from dataclasses import dataclass

import pytest

from large_toolkit.api import UserInputError, describe_options, option, parse_options


@dataclass(frozen=True)
class _Opts:
    steps: int = option(10, "training steps", low=1)
    share: float = option(0.5, "share of the steps", low=1e-3, high=1)
    cap: float = option(2.0, "an upper bound only", high=4)
    free: float = option(0.0, "unbounded")


def test_bounds_are_declared_and_described():
    infos = {o.name: o for o in describe_options(_Opts)}
    assert (infos["steps"].low, infos["steps"].high) == (1, None)
    assert [infos[n].bounds_text for n in ("steps", "share", "cap", "free")] == [">= 1", "in [0.001, 1]", "<= 4", ""]


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"steps": "0"}, r"steps=0 of demo must be >= 1"),
        ({"steps": -3}, r"steps=-3 of demo must be >= 1"),
        ({"share": "0"}, r"share=0\.0 of demo must be in \[0\.001, 1\]"),
        ({"share": 1.5}, r"must be in \[0\.001, 1\]"),
        ({"cap": "nan"}, r"cap=nan of demo must be <= 4"),
    ],
)
def test_out_of_range_values_are_refused(raw, match):
    with pytest.raises(UserInputError, match=match) as info:
        parse_options(_Opts, raw, "demo")
    assert "\n" not in info.value.one_line()


def test_values_on_the_bounds_pass():
    cfg = parse_options(_Opts, {"steps": "1", "share": "1", "cap": 4, "free": "-1e9"}, "demo")
    assert cfg == {"steps": 1, "share": 1.0, "cap": 4.0, "free": -1e9}


def test_builtin_declarations_refuse_what_would_crash():
    from large_ganspace.finder import GANSpaceOptions
    from large_inverters.options import ProjectorOptions

    with pytest.raises(UserInputError, match=r"num_samples=1 .* must be >= 2"):
        parse_options(GANSpaceOptions, {"num_samples": "1"}, "finder GANSpaceFinder")
    with pytest.raises(UserInputError, match=r"lr_rampup=0\.0 .* must be in"):  # would divide by zero in the schedule
        parse_options(ProjectorOptions, {"lr_rampup": "0"}, "inverter optim")
