"""StyleGAN2 generator throughput: large-tk's implementation vs a straightforward baseline.

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
import time

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


def _time(fn, device: torch.device, iters: int) -> float:
    fn()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / iters


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="256,1024")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--devices", default="cpu,cuda")
    ap.add_argument("--iters", type=int, default=2)
    args = ap.parse_args()
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
