"""Direction-finder speed: GANSpace streaming PCA vs sklearn IncrementalPCA (the original's method), and SeFa.

Both PCA methods see the *same* W samples: they are generated once (timed on
their own as "mapping"), kept in memory, then fed batch by batch to

* ours: :class:`large_ganspace.finder.StreamingCovariance` (float32 batch
  products into float64 running sums, reference-shifted) + one float64 ``eigh``;
* the original: ``IncrementalPCA(c, batch_size=max(100, 2c)).partial_fit`` on
  chunks of ``NB = max(B, max(2000, 3c))`` rows, as GANSpace's ``decomposition.py``
  does (default ``B <= 20`` -> ``NB = 2000``; ``--nb 10000`` mimics ``-b 10_000``).

``--ipca-n`` lets IPCA run on a prefix of the samples (it costs ~1 ms/sample on a
2-core CPU); its time is then extrapolated linearly to ``--n`` and labelled so,
and the cosines compare IPCA with ours on that same prefix.

Usage: python bench/directions_speed.py [--n 1000000] [--ipca-n N] [--nb 2000] [--device cpu]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def mapping_generator(w_dim: int, seed: int = 0):
    """A generator with a StyleGAN2-like 8-layer 512-wide mapping network (the cost GANSpace pays per sample)."""
    import torch.nn.functional as F

    from large_toolkit.testing import ToyGenerator

    class Mapping8(ToyGenerator):
        def __init__(self) -> None:
            super().__init__(z_dim=w_dim, w_dim=w_dim, num_ws=2, resolution=4, channels=4, seed=seed)
            rng = torch.Generator().manual_seed(seed + 1)
            self._layers = [torch.randn(w_dim, w_dim, generator=rng) / np.sqrt(w_dim) * 1.4 for _ in range(8)]

        def _map(self, z: torch.Tensor) -> torch.Tensor:
            h = z * (z.square().mean(1, keepdim=True) + 1e-8).rsqrt()
            for weight in getattr(self, "_layers", [])[:8]:
                h = F.leaky_relu(h @ weight.to(h).T, 0.2)
            return h if hasattr(self, "_layers") else super()._map(z)

        def to(self, device):  # type: ignore[override]
            super().to(device)
            self._layers = [w.to(device) for w in self._layers]
            return self

    return Mapping8()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=float, default=1e6)
    ap.add_argument("--ipca-n", type=float, default=None)
    ap.add_argument("--nb", type=int, default=2000)
    ap.add_argument("--components", type=int, default=80)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--w-dim", type=int, default=512)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from large_ganspace.finder import StreamingCovariance, iter_w_batches, pca_from_covariance
    from large_sefa.finder import SeFaFinder
    from sklearn.decomposition import IncrementalPCA

    from large_toolkit.testing import ToyGenerator

    n, c, dev = int(args.n), args.components, torch.device(args.device)
    ipca_n = int(args.ipca_n or n)
    g = mapping_generator(args.w_dim).to(dev)

    t0 = time.perf_counter()
    batches = [b.cpu() for b in iter_w_batches(g, n, args.batch, seed=0, device=dev)]
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t_map = time.perf_counter() - t0

    def ours(limit: int) -> tuple[float, torch.Tensor, torch.Tensor]:
        t = time.perf_counter()
        stats, seen = StreamingCovariance(args.w_dim, dev), 0
        for b in batches:
            b = b[: limit - seen]
            if not len(b):
                break
            stats.update(b.to(dev))
            seen += len(b)
        comps, var = pca_from_covariance(stats.covariance(), c)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t, comps, var

    t_ours, comps, var = ours(n)

    x = torch.cat(batches)[:ipca_n].numpy()
    nb = max(args.nb, max(2000, 3 * c))
    ipca = IncrementalPCA(c, whiten=False, batch_size=max(100, 2 * c))
    t0 = time.perf_counter()
    for i in range(0, ipca_n, nb):
        chunk = x[i : i + nb]
        if len(chunk) >= c:  # IPCA needs at least c rows per partial_fit
            ipca.partial_fit(chunk)
    t_ipca = time.perf_counter() - t0
    t_ipca_full = t_ipca * n / ipca_n
    if ipca_n == n:
        ref_comps, ref_var = comps, var
    else:
        _, ref_comps, ref_var = ours(ipca_n)
    ipc = torch.from_numpy(ipca.components_).double()
    cos = (ipc * ref_comps).sum(1)  # signed: both use the max-|.|-positive rule
    k10, k20 = cos[:10].abs().min().item(), cos[:20].abs().min().item()
    signs = int((cos[:20] < 0).sum())
    std_rel = (np.sqrt(ipca.explained_variance_[:20]) / ref_var[:20].sqrt().numpy() - 1).__abs__().max()

    sefa_g = ToyGenerator(z_dim=8, w_dim=512, num_ws=12, channels=512, resolution=4, seed=1)
    sefa_g.fingerprint()
    SeFaFinder().find(sefa_g)
    t_sefa = min(_timed(lambda: SeFaFinder().find(sefa_g)) for _ in range(5))

    label = "" if ipca_n == n else f" (measured on {ipca_n:,}, x{n / ipca_n:.1f} extrapolated)"
    print(f"device {dev}, torch threads {torch.get_num_threads()}, N = {n:,}, w_dim {args.w_dim}, c = {c}, NB = {nb}")
    rows = [
        ("mapping (z -> W, shared by both)", f"{t_map:8.2f} s", ""),
        ("ours: streaming cov + eigh", f"{t_ours:8.2f} s", f"{t_ours / n * 1e6:.2f} us/sample"),
        (f"sklearn IncrementalPCA{label}", f"{t_ipca_full:8.2f} s", f"{t_ipca / ipca_n * 1e6:.1f} us/sample"),
        ("speed-up, PCA part", f"{t_ipca_full / t_ours:8.1f} x", "target >= 30x"),
        ("speed-up, end to end (incl. mapping)", f"{(t_ipca_full + t_map) / (t_ours + t_map):8.1f} x", ""),
        ("component |cos| top-10 / top-20 (min)", f"{k10:.6f} / {k20:.6f}", f"{signs} sign flips in top 20"),
        ("explained std rel. diff top 20 (max)", f"{std_rel:.2e}", ""),
        ("SeFa, 512 x 6144 columns (best of 5)", f"{t_sefa:8.3f} s", "target < 1 s"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>20}  {note}")


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
