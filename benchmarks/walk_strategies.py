"""Which way of evaluating a walk's points is faster, per model and batch size.

For each network and batch of digits images: points per second of a loss walk with one
forward per point (``strategy="loop"``, the CPU default) and with chunks of points batched
by vmap (``strategy="vmap"``), measured in one race (the two take turns, best of 2 rounds),
and the strategy that ``strategy="measure"`` picks from its own short race. Run on an idle
machine (check ``uptime``).

    python benchmarks/walk_strategies.py
    python benchmarks/walk_strategies.py --device cuda
    python benchmarks/walk_strategies.py --chunks 8 64 100   # vmap chunk sizes instead
"""

from __future__ import annotations

import argparse

import torch

from netspectra.data import load_digits32, minibatch
from netspectra.experiments._sweep import tune_allocator
from netspectra.models import CifarResNet, ToyCNN
from netspectra.probes import walk
from netspectra.probes._strategy import race

#: (name, builder, batch sizes, points per walk): fewer points for the slow ResNets.
CASES = (
    ("Toy-CNN 20 units", lambda g: ToyCNN(20, generator=g), (16, 128), 100),
    ("Toy-CNN 50 units", lambda g: ToyCNN(50, generator=g), (128,), 50),
    ("ResNet20", lambda g: CifarResNet(20, generator=g), (8, 32, 128), 24),
    ("ResNet56", lambda g: CifarResNet(56, generator=g), (32,), 24),
)


def chunk_sizes(data, device: torch.device, chunks: list[int], points: int = 100) -> None:
    """Points/s of vmap chunks of each size (``chunk_points``), one race."""
    model = ToyCNN(20, generator=torch.Generator().manual_seed(0)).to(device)
    xn, yn = minibatch(data, 128, seed=0)
    x, y = torch.from_numpy(xn).to(device), torch.from_numpy(yn).to(device)
    times = race({c: lambda c=c: walk(model, x, 1, target=y, n_points=points, strategy="vmap",
                                      chunk_points=c, progress=False) for c in chunks},
                 repeats=2, device=device)
    for c, seconds in times.items():
        print(f"vmap chunks of {c:>3} points: {points / seconds:7.1f} points/s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--chunks", type=int, nargs="+",
                        help="race vmap chunks of these many points on the Toy-CNN with 20 "
                             "units at batch 128 instead")
    args = parser.parse_args(argv)
    tune_allocator()
    device = torch.device(args.device)
    data = load_digits32()
    if args.chunks:
        chunk_sizes(data, device, args.chunks)
        return
    print(f"{torch.get_num_threads()} threads, {device}, raised allocator thresholds")
    print(f"{'model':<18} {'batch':>5} {'loop':>8} {'vmap':>8} {'vmap/loop':>9}  measure picks")
    for name, build, batches, points in CASES:
        model = build(torch.Generator().manual_seed(0)).to(device)
        for batch in batches:
            xn, yn = minibatch(data, batch, seed=0)
            x, y = torch.from_numpy(xn).to(device), torch.from_numpy(yn).to(device)

            def run(strategy: str, model=model, x=x, y=y, points=points):
                return walk(model, x, 1, target=y, n_points=points, strategy=strategy,
                            progress=False)

            times = race({s: lambda s=s: run(s) for s in ("loop", "vmap")}, repeats=2,
                         device=device)
            print(f"{name:<18} {batch:>5} {points / times['loop']:8.1f} "
                  f"{points / times['vmap']:8.1f} {times['loop'] / times['vmap']:8.2f}×  "
                  f"{run('measure').strategy}", flush=True)


if __name__ == "__main__":
    main()
