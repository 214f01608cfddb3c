"""Images/s of ``large-tk invert``'s engines in one run: local vs Ray with 1 and 2 CPU actors.

Why one run: machines differ, so only ratios measured side by side mean anything.  Every engine
inverts the same demo images with the bundled demo encoder and writes through the same
``run_job`` (chunk files, merge); the Ray rows include Ray Data's per-run overhead (pipeline
start-up, actor creation and model loading), which is what a user pays.  A warm-up run before the
timed ones starts the Ray cluster, so cluster start-up itself is excluded and reported separately.

    python bench/distributed_scaling.py [--images 512] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process / per actor")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import ray
    from large_inverters.images import discover_images
    from large_inverters.job import InvertJob, run_job
    from large_inverters.ray_engine import RayOptions, ray_engine
    from large_inverters.spec import ModelSpec

    from large_toolkit.data.folders import write_image_folder
    from large_toolkit.data.synthetic import generate
    from large_toolkit.types import LatentSpace

    spec = ModelSpec("encoder", "stylegan2")
    generator, inverter = spec.build("cpu")
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_image_folder(Path(tmp) / "imgs", np.asarray(generate(args.images, seed=1, workers=1).images))
        paths = discover_images([folder])

        def run(name: str, engine) -> float:
            job = InvertJob(
                paths,
                Path(tmp) / f"{name}.safetensors",
                inverter,
                "encoder",
                generator,
                LatentSpace.WPLUS,
                args.batch_size,
                report=False,
            )
            start = time.perf_counter()
            run_job(job, restart=True, engine=engine)
            return len(paths) / (time.perf_counter() - start)

        t0 = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
        ray.data.DataContext.get_current().enable_progress_bars = False
        startup = time.perf_counter() - t0
        run("warmup", ray_engine(spec, RayOptions(workers=1, threads_per_worker=args.threads)))
        rows = [("local", run("local", None))]
        for n in (1, 2):
            rows.append(
                (f"ray x{n}", run(f"ray{n}", ray_engine(spec, RayOptions(workers=n, threads_per_worker=args.threads))))
            )
        ray.shutdown()
    base = rows[0][1]
    print(
        f"{args.images} images {generator.resolution}x{generator.resolution}, demo encoder, batch {args.batch_size}, "
        f"{args.threads} torch thread(s) per worker; Ray cluster start-up {startup:.1f} s (excluded)"
    )
    print(f"{'engine':<10}{'images/s':>10}{'vs local':>10}")
    for name, rate in rows:
        print(f"{name:<10}{rate:>10.1f}{rate / base:>10.2f}")


if __name__ == "__main__":
    main()
