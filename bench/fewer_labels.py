"""Fewer labels (S³GAN recipe) on `data synth`: inferred-label accuracy and FD vs an unconditional run.

    python bench/fewer_labels.py --out /tmp/fewer --n 1000 --kimg 2

Renders ``--n`` procedural faces (``large-tk data synth``), bins ``light_azimuth`` into 3 equal-count
classes, and trains, with the same seed, settings and kimg: an unconditional StyleGAN2, and conditional
ones with 5 %, 20 % and 100 % of the rows labelled (the rest inferred from rotation features by a
logistic regression).  Prints one markdown row per run: labelled images, held-out accuracy of the
classifier (on a quarter of the labelled images), accuracy of the inferred labels against the true bins
(all unlabelled images), and the last snapshot's FD against the training set (the stored rotation
extractor, ``--fd-n`` generated images).  Every run goes through the CLI as a user would.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

MODEL = ["--resolution", "32", "--channel-max", "32", "--z-dim", "32", "--w-dim", "32", "--batch-size", "16"]


def large_tk(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "large_toolkit", "--device", "cpu", *args], text=True, capture_output=True
    )
    if result.returncode:
        raise SystemExit(result.stderr)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--kimg", type=float, default=2.0)
    ap.add_argument("--fd-n", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--column", default="light_azimuth")
    ap.add_argument("--bins", type=int, default=3)
    args = ap.parse_args()
    data = args.out / "data"
    if not data.is_dir():
        large_tk("data", "synth", "--out", str(data), "--n", str(args.n), "--resolution", "32", "--seed", "0")
    rows = list(csv.DictReader((data / "labels.csv").open()))
    values = np.array([float(r[args.column]) for r in rows])
    edges = np.quantile(values, np.linspace(0, 1, args.bins + 1)[1:-1])
    truth = np.searchsorted(edges, values, side="right")
    order = np.random.default_rng(0).permutation(len(rows))
    common = [
        "train",
        "--data",
        str(data),
        *MODEL,
        "--kimg",
        str(args.kimg),
        "--snapshot-kimg",
        str(args.kimg / 2),
        "--fd-n",
        str(args.fd_n),
        "--threads",
        str(args.threads),
        "--seed",
        "0",
    ]
    table = []
    for name, frac in (("unconditional", None), ("5 %", 0.05), ("20 %", 0.2), ("100 %", 1.0)):
        run = args.out / name.replace(" %", "pct")
        extra: list[str] = []
        if frac is not None:
            keep = set(order[: round(frac * len(rows))].tolist())
            labels = args.out / f"labels-{name.replace(' %', 'pct')}.csv"
            with labels.open("w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["image", args.column])
                for i, r in enumerate(rows):
                    w.writerow([r["image"], r[args.column] if i in keep else ""])
            extra = ["--labels", str(labels), "--label-column", args.column, "--label-bins", str(args.bins)]
        t0 = time.perf_counter()
        if not (run / "metrics.jsonl").is_file():
            large_tk(*common, *extra, "-o", str(run))
        seconds = time.perf_counter() - t0
        fd = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["fd"]
        row = {"run": name, "fd": fd, "seconds": round(seconds)}
        if frac is not None:
            report = json.loads((run / "labels.json").read_text())
            used = list(csv.DictReader((run / "labels-used.csv").open()))
            inferred = [i for i, u in enumerate(used) if u["given"] == "0"]
            acc = float(np.mean([int(used[i]["class"]) == truth[i] for i in inferred])) if inferred else None
            row.update(
                labelled=report["n_labelled"],
                holdout=report["holdout_accuracy"],
                holdout_n=report["holdout_n"],
                inferred_acc=acc,
                n_inferred=len(inferred),
            )
        table.append(row)
        print(json.dumps(row), flush=True)
    (args.out / "fewer_labels.json").write_text(json.dumps(table, indent=1))

    def fmt(v, spec=".3f"):
        return "-" if v is None else format(v, spec)

    print(f"\n| run | labelled | held-out acc. (n) | inferred-label acc. (n) | FD at {args.kimg:g} kimg |")
    print("|---|---|---|---|---|")
    for r in table:
        held = "-" if r.get("holdout") is None else f"{r['holdout']:.3f} ({r['holdout_n']})"
        inf = "-" if r.get("inferred_acc") is None else f"{r['inferred_acc']:.3f} ({r['n_inferred']})"
        print(f"| {r['run']} | {r.get('labelled', 0)} | {held} | {inf} | {fmt(r['fd'], '.4g')} |")


if __name__ == "__main__":
    main()
