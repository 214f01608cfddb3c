"""Write the bundled ``dcgan32.safetensors`` deterministically: ``python make_weights.py [--seed 0]``.

The weights are He-normal from the seed (not trained): the example shows the plugin contract,
not image quality.  Re-running with the same seed gives the same bytes, hence the same fingerprint.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from large_tk_dcgan.model import DCGANConfig, DCGANGenerator, init_state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "large_tk_dcgan" / "dcgan32.safetensors")
    args = parser.parse_args()
    config = DCGANConfig()
    DCGANGenerator(init_state(config, args.seed), config).save_safetensors(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
