"""Slider-to-image latency of the desktop GUI (issue 8 target: median <= 100 ms on CPU).

Offscreen, on the backend's bundled demo: compute SeFa, then move the first slider
step by step; each step is timed from ``QSlider.setValue`` to the frame arriving on
the GUI thread (state update, edit, render worker, queued signal, pixmap).

    python bench/gui_latency.py [--steps 40] [--backend stylegan2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--backend", default="stylegan2")
    parser.add_argument("--finder", default="sefa")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import torch
    from large_gui.main_window import MainWindow
    from PySide6.QtWidgets import QApplication

    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    app = QApplication.instance() or QApplication([])

    def wait(predicate, timeout: float = 120.0) -> None:
        end = time.time() + timeout
        while not predicate() and time.time() < end:
            app.processEvents()
            time.sleep(0.0005)

    win = MainWindow(device="cpu")
    win.show()
    win.load_default_model(args.backend)
    wait(lambda: win.view.frame is not None)
    win.directions_panel.finder.setCurrentText(args.finder)
    win.directions_panel.compute()
    wait(lambda: win.directions_panel.list.count() > 0)
    first = win.directions_panel.list.item(0)
    first.setCheckState(first.checkState().Checked)  # nothing is ticked after Compute
    wait(lambda: win.state.importance is not None)  # let the layer study finish first
    arrived: dict[int, float] = {}
    win.renderer.rendered.connect(lambda stamp, _f, _ms: arrived.__setitem__(stamp, time.perf_counter()))
    slider = win.directions_panel.sliders[0].slider
    latencies, render_ms = [], []
    for step in range(args.steps):
        start = time.perf_counter()
        slider.setValue((step % 20 - 10) * 5 + 1)
        stamp = win.state.latest_stamp
        wait(lambda stamp=stamp: stamp in arrived)
        latencies.append((arrived[stamp] - start) * 1000.0)
        render_ms.append(win.view.last_ms or 0.0)
    gen = win.state.generator
    print(f"device cpu ({torch.get_num_threads()} torch threads), {args.backend} demo {gen.resolution}px, "
          f"{args.steps} slider steps")
    print(f"{'':24}{'median':>10}{'p90':>10}{'max':>10}")
    for name, values in (("slider -> frame (ms)", latencies), ("render only (ms)", render_ms)):
        ordered = sorted(values)
        print(f"{name:24}{statistics.median(values):10.1f}{ordered[int(0.9 * (len(values) - 1))]:10.1f}"
              f"{max(values):10.1f}")
    ok = statistics.median(latencies) <= 100.0
    print(f"target median <= 100 ms: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
