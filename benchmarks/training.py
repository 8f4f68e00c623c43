"""Speed of ``netspectra.training.train`` against a plain PyTorch loop (RR App. A.3 recipe).

One training epoch of a CIFAR ResNet (default: ResNet20 and ResNet56 on the digits at
32×32), the library's loop against a hand-written loop over the same model, data, optimizer
and flips, in the same process. The contenders take turns within each round, each starting
from the same initial weights, and each keeps its best time, so a slow spell of a shared
machine hits all of them rather than one. Also prints the achieved GFLOP/s (FLOPs of one
training step counted by ``torch.utils.flop_counter``) against a 2048² fp32 matmul.

    python benchmarks/training.py                           # ResNet20 + 56, 3 rounds
    python benchmarks/training.py --depths 20 --rounds 1    # a smoke test
    python benchmarks/training.py --compile                 # also torch.compile (slow start)
    python benchmarks/training.py --default-allocator       # keep glibc's thresholds
    python benchmarks/training.py --accuracy 10             # bf16 vs fp32: held-out accuracy
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from netspectra.data import ImageSet, holdout_split, load_digits32
from netspectra.experiments._sweep import tune_allocator
from netspectra.models import CifarResNet
from netspectra.training import Recipe, train

RECIPE = Recipe(epochs=1)


def plain_epoch(model, images, labels, *, seed: int, channels_last: bool = False) -> float:
    """The loop one writes by hand: shuffle, flip, forward, backward, step."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model.to(memory_format=fmt)
    images = images.contiguous(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=RECIPE.lr, momentum=RECIPE.momentum,
                          weight_decay=RECIPE.weight_decay)
    gen = torch.Generator().manual_seed(seed)
    n = labels.shape[0]
    model.train()
    order = torch.randperm(n, generator=gen)
    flips = torch.rand(n, generator=gen) < 0.5
    for start in range(0, n, RECIPE.batch_size):
        idx = order[start:start + RECIPE.batch_size]
        x = torch.where(flips[start:start + RECIPE.batch_size, None, None, None],
                        images[idx].flip(-1), images[idx])
        loss = F.cross_entropy(model(x), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return float(loss.detach())


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Best fp32 rate of a ``size × size`` matmul on this process's threads."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = min(_seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * size ** 3 / best / 1e9


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def step_flops(model, images) -> float:
    """FLOPs of one forward + backward pass over ``images`` (per image)."""
    model = copy.deepcopy(model)
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(images), torch.zeros(len(images), dtype=torch.long)).backward()
    return counter.get_total_flops() / len(images)


def _data(kind: str, n: int) -> ImageSet:
    if kind == "digits":
        return load_digits32()
    rng = np.random.default_rng(0)
    return ImageSet(rng.normal(size=(n, 3, 32, 32)).astype(np.float32),
                    rng.integers(0, 10, n).astype(np.int64), "random")


def contenders(compile_too: bool) -> dict:
    def library(**kwargs):
        return lambda model, data: train(model, data, recipe=RECIPE, progress=False, **kwargs)

    def plain(**kwargs):
        def run(model, data):
            plain_epoch(model, torch.from_numpy(data.images), torch.from_numpy(data.labels),
                        seed=0, **kwargs)
        return run

    named = {"plain loop": plain(), "plain loop, channels-last": plain(channels_last=True),
             "library, contiguous": library(channels_last=False),
             "library (CPU default: channels-last)": library(),
             "library, bf16 autocast": library(precision="bfloat16")}
    if compile_too:
        named["library, torch.compile"] = lambda model, data: train(
            torch.compile(model), data, recipe=RECIPE, progress=False)
    return named


def race(depth: int, data: ImageSet, rounds: int, compile_too: bool) -> None:
    model = CifarResNet(depth, generator=torch.Generator().manual_seed(0))
    flops = step_flops(model, torch.from_numpy(data.images[:8]))
    runners = contenders(compile_too)
    if compile_too:  # the first epoch compiles; time the later ones
        runners["library, torch.compile"](copy.deepcopy(model), data)
    best = dict.fromkeys(runners, float("inf"))
    for _ in range(rounds):
        for name, run in runners.items():
            fresh = copy.deepcopy(model)
            best[name] = min(best[name], _seconds(lambda r=run, m=fresh: r(m, data)))
    n = data.labels.shape[0]
    base = n / best["plain loop"]
    print(f"ResNet{depth}: {flops / 1e6:.0f} MFLOP per image and training step")
    for name, seconds in best.items():
        rate = n / seconds
        print(f"  {name:38s} {rate:7.1f} images/s  {rate / base:5.2f}× plain  "
              f"{rate * flops / 1e9:6.1f} GFLOP/s")


def accuracy(epochs: int, depth: int) -> None:
    """Held-out accuracy after ``epochs`` on the digits (10 % held out), fp32 against bf16."""
    fit, held = holdout_split(load_digits32(), 0.1, seed=0)
    recipe = Recipe(epochs=epochs, log_every=5)
    for precision in ("float32", "bfloat16"):
        model = CifarResNet(depth, generator=torch.Generator().manual_seed(0))
        result = train(model, fit, held, recipe=recipe, precision=precision, progress=False)
        print(f"ResNet{depth} {precision:8s} {epochs} epochs: training accuracy (last log) "
              f"{result.train_accuracy[-1]:.3f}, held-out {result.heldout_accuracy[-1]:.3f}, "
              f"{result.seconds:.1f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[20, 56])
    parser.add_argument("--data", choices=("digits", "random"), default="digits")
    parser.add_argument("--images", type=int, default=2048, help="with --data random")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--default-allocator", action="store_true")
    parser.add_argument("--accuracy", type=int, metavar="EPOCHS",
                        help="instead of the race: fp32 vs bf16 accuracy after EPOCHS")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if not args.default_allocator:
        tune_allocator()
    if args.accuracy:
        accuracy(args.accuracy, args.depths[0])
        return
    data = _data(args.data, args.images)
    print(f"{args.threads} threads, {data.name}: {data.labels.shape[0]} images per epoch, "
          f"batch {RECIPE.batch_size}, allocator "
          f"{'default' if args.default_allocator else 'raised thresholds'}; "
          f"fp32 matmul 2048²: {matmul_gflops():.0f} GFLOP/s")
    for depth in args.depths:
        race(depth, data, args.rounds, args.compile)


if __name__ == "__main__":
    main()
