"""Inverter test settings.

Toy-sized models gain nothing from intra-op threads, and on a shared 2-core CI
box a busy neighbour makes torch's spinning thread pool 10-20x slower (measured:
the W+ projection test went from 1.5 s to 33 s under load average 4).  So every
test here except the IR-SE-50 parity module runs single-threaded.
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _single_thread_for_small_models(request):
    if "parity" in request.module.__name__:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
