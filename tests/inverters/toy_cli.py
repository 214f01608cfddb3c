"""Run ``large-tk`` with a test-only ``toy`` generator backend registered (used by the kill test).

``TOY_DELAY`` (seconds per synthesis call) slows the run down so the test can
kill it midway without racing a run that finishes too fast.  ``TOY_GATE`` (a
path) holds every synthesis call until that file exists: the run stops inside
its first chunk, output lock held, until the test opens the gate -- no timing.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("large_toolkit")


def make_toy(checkpoint: str | None = None, device: str = "cpu") -> Any:
    from large_toolkit.testing import ToyGenerator

    class SlowToy(ToyGenerator):
        def synthesis_from_styles(self, styles, noise_mode="const"):  # type: ignore[no-untyped-def]
            gate = os.environ.get("TOY_GATE", "")
            while gate and not os.path.exists(gate):
                time.sleep(0.02)
            delay = float(os.environ.get("TOY_DELAY", "0"))
            if delay:
                time.sleep(delay)
            return super().synthesis_from_styles(styles, noise_mode)

    return SlowToy().to(device)


class ToyPlugin:
    @staticmethod
    @hookimpl
    def register_generators(register: Any) -> None:
        register("toy", make_toy, "test-only ToyGenerator")


def main() -> None:
    from large_toolkit.cli.main import main as cli_main
    from large_toolkit.plugins import get_host

    get_host().register_module(ToyPlugin(), "toy-test")
    sys.argv[0] = "large-tk"
    cli_main()


if __name__ == "__main__":
    main()
