"""Generator throughput: large-tk vs NVIDIA's own code (``--reference``), or vs a textbook baseline.

With ``--reference DIR`` (a stylegan2-ada-pytorch or stylegan3 checkout; fetch it yourself, it is
never vendored) and/or ``--reference-sg3 DIR`` (a stylegan3 checkout; defaults to ``--reference``
when that is one), NVIDIA's generators are built with a fixed seed (StyleGAN2 256 px "paper256" and
1024 px config-f channels; StyleGAN3-T/R 256 px), pickled with NVIDIA's persistence and loaded into
ours through our restricted loader.  Both then run interleaved in this process (same threads,
``torch.no_grad``, fp32, constant noise) and the script prints ms/img for both, the ratio
ours/NVIDIA (< 1: ours faster) and max |Δ| of the outputs:

    python bench/generator_speed.py --reference /work/ref/stylegan2-ada-pytorch \
        --reference-sg3 /work/ref/stylegan3 --threads 2 --repeats 5

Without ``--reference`` (the original mode):

Why: the backend batches modulated convolutions (one conv for the whole batch, demodulation as
an output scale) and uses a grouped conv for single images.  The baseline is the textbook form
of the same maths on the same weights: for every sample and layer, build the modulated weight,
demodulate it, up-sample explicitly (zero-insert, pad, FIR, flipped conv), and convolve.  Both
outputs are checked to agree before timing.

    python bench/generator_speed.py                      # 256 and 1024 px, batch 1 and 8, CPU (+CUDA)
    python bench/generator_speed.py --sizes 256 --iters 3 --devices cpu
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from large_stylegan2 import StyleGAN2Generator, ops


def _baseline_modconv(x, weight, s, demod, up, fir):
    """One sample: x [1,I,H,W], s [I]."""
    w = weight * s.reshape(1, -1, 1, 1)
    if demod:
        w = w * (w.square().sum(dim=[1, 2, 3], keepdim=True) + 1e-8).rsqrt()
    if up:
        x = ops.upfirdn2d_up2(x, fir, 3, 2)  # zero-insert, pad (3,2), FIR with gain 4 -> 2H+2
        return F.conv2d(x, w.flip([2, 3]))  # valid conv with the flipped kernel -> 2H
    return F.conv2d(x, w, padding=w.shape[-1] // 2)


def baseline_synthesis(G: StyleGAN2Generator, ws: torch.Tensor) -> torch.Tensor:
    """Per-sample, unfused, explicit-upsampling StyleGAN2 synthesis (noise_mode const)."""
    p, outs = G.params, []
    styles_all = G.style_dict(ws)
    for b in range(ws.shape[0]):
        x, img = p["synthesis.b4.const"].unsqueeze(0), None
        for res in G.config.block_resolutions:
            for conv in ("conv0", "conv1"):
                name = f"synthesis.b{res}.{conv}"
                if f"{name}.weight" not in p:
                    continue
                x = _baseline_modconv(
                    x, p[f"{name}.weight"], styles_all[name][b], True, conv == "conv0", p[f"{name}.resample_filter"]
                )
                x = x + p[f"{name}.noise_const"] * p[f"{name}.noise_strength"]
                x = F.leaky_relu(x + p[f"{name}.bias"].reshape(1, -1, 1, 1), 0.2) * math.sqrt(2)
            name = f"synthesis.b{res}.torgb"
            w = p[f"{name}.weight"]
            y = _baseline_modconv(x, w, styles_all[name][b] / math.sqrt(w.shape[1]), False, False, None)
            y = y + p[f"{name}.bias"].reshape(1, -1, 1, 1)
            img = y if img is None else ops.upfirdn2d_up2(img, p[f"synthesis.b{res}.resample_filter"], 2, 1) + y
        outs.append(img)
    return torch.cat(outs)


def _time(fn, device: torch.device, iters: int, warm: bool = True) -> float:
    if warm:
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / iters


def _reference_rows(args: argparse.Namespace) -> None:
    """NVIDIA vs ours, interleaved: median ms/img of ``--repeats`` timed runs after one warm-up each."""
    import nvidia_reference as nv

    sg2_dir = Path(args.reference) if args.reference else None
    sg3_dir = Path(args.reference_sg3) if args.reference_sg3 else None
    if sg3_dir is None and sg2_dir is not None and (sg2_dir / "training" / "networks_stylegan3.py").exists():
        sg3_dir = sg2_dir
    builders = []
    if sg2_dir is not None:
        builders += [lambda s=s: nv.stylegan2_pair(sg2_dir, s, args.seed) for s in map(int, args.sizes.split(","))]
    if sg3_dir is not None:
        builders += [lambda c=c: nv.stylegan3_pair(sg3_dir, c, 256, args.seed) for c in args.sg3_configs.split(",")]
    rows = []
    load_start = os.getloadavg()[0]
    for build in builders:
        pair = build()
        for batch in map(int, args.batches.split(",")):
            z = torch.randn(batch, 512, generator=torch.Generator().manual_seed(args.seed + batch))
            with torch.no_grad():
                ws = pair.nvidia.mapping(z, None, truncation_psi=0.7)
                ref = nv.nvidia_synthesis(pair, ws)
                out = pair.ours.synthesis(ws)
                err = float((out - ref).abs().max())
                t_ours, t_nv = [], []
                for _ in range(args.repeats):  # interleaved, so load changes hit both alike
                    t_nv.append(
                        _time(lambda p=pair, w=ws: nv.nvidia_synthesis(p, w), torch.device("cpu"), 1, warm=False)
                    )
                    t_ours.append(_time(lambda p=pair, w=ws: p.ours.synthesis(w), torch.device("cpu"), 1, warm=False))
            ours_ms, nv_ms = 1000 * statistics.median(t_ours) / batch, 1000 * statistics.median(t_nv) / batch
            best = min(t_ours) / min(t_nv)
            rows.append((pair.label, batch, ours_ms, nv_ms, best, err, float(ref.abs().max())))
            print(
                f"  done {pair.label} batch {batch}: ours {ours_ms:.0f} ms/img, NVIDIA {nv_ms:.0f} ms/img", flush=True
            )
    print(
        f"\nGenerator synthesis vs NVIDIA's code, CPU, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"fp32, median of {args.repeats} interleaved runs, 1-min load average {load_start:.1f} -> "
        f"{os.getloadavg()[0]:.1f} (other processes skew absolute times; the ratios are interleaved)"
    )
    print(
        f"{'network':<12}{'batch':>6}{'ours ms/img':>13}{'NVIDIA ms/img':>15}{'ratio':>8}{'speed-up':>10}"
        f"{'best':>7}{'max|Δ|':>10}{'max|img|':>10}"
    )
    for label, batch, ours_ms, nv_ms, best, err, scale in rows:
        print(
            f"{label:<12}{batch:>6}{ours_ms:>13.1f}{nv_ms:>15.1f}{ours_ms / nv_ms:>7.2f}x{nv_ms / ours_ms:>9.2f}x"
            f"{best:>6.2f}x{err:>10.1e}{scale:>10.3g}"
        )
    print("ratio = our median time / NVIDIA's (below 1: ours faster); speed-up = its inverse;")
    print("best = the ratio of the fastest runs of each (the least disturbed by other load)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="256,1024")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--devices", default="cpu,cuda")
    ap.add_argument("--iters", type=int, default=2)
    ap.add_argument("--reference", help="NVIDIA stylegan2-ada-pytorch (or stylegan3) checkout to compare against")
    ap.add_argument("--reference-sg3", help="NVIDIA stylegan3 checkout (default: --reference if it is one)")
    ap.add_argument("--sg3-configs", default="T,R")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per row with --reference (median)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.reference or args.reference_sg3:
        _reference_rows(args)
        return
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    devices = [d for d in args.devices.split(",") if d != "cuda" or torch.cuda.is_available()]
    rows = []
    for device_name in devices:
        device = torch.device(device_name)
        for size in (int(s) for s in args.sizes.split(",")):
            cbase = 16384 if size <= 256 else 32768  # config-f channel tables (256: paper256 fmaps 0.5)
            G = StyleGAN2Generator.random(size, channel_base=cbase, device=device)
            for batch in (int(b) for b in args.batches.split(",")):
                z = torch.randn(batch, G.z_dim, generator=torch.Generator().manual_seed(batch)).to(device)
                with torch.no_grad():
                    ws = G.mapping(z, psi=0.7)
                    ours = G.synthesis(ws)
                    base = baseline_synthesis(G, ws)
                    err = float((ours - base).abs().max() / base.abs().max())
                    iters = max(1, args.iters if size < 1024 or device.type == "cuda" else args.iters // 2)
                    t_ours = _time(lambda G=G, ws=ws: G.synthesis(ws), device, iters)
                    t_base = _time(lambda G=G, ws=ws: baseline_synthesis(G, ws), device, iters)
                rows.append((device_name, size, batch, batch / t_ours, batch / t_base, t_base / t_ours, err))
                print(f"  done {device_name} {size}px batch {batch}", flush=True)
    threads = torch.get_num_threads()
    print(f"\nStyleGAN2 synthesis throughput (images/s), torch {torch.__version__}, {threads} CPU threads, fp32")
    print(f"{'device':<7}{'res':>6}{'batch':>6}{'large-tk':>12}{'baseline':>12}{'speed-up':>10}{'rel.err':>10}")
    for dev, size, batch, ours, base, speed, err in rows:
        print(f"{dev:<7}{size:>6}{batch:>6}{ours:>12.2f}{base:>12.2f}{speed:>9.2f}x{err:>10.1e}")


if __name__ == "__main__":
    main()
