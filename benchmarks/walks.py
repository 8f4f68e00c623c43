"""Speed of weight-space walks (Ringing ReLUs eq. 1) against naive loops and loss-landscapes.

A Toy-CNN with 20 units, a batch of 128 digits images at 32×32 and 100 points per line, all
measured in one run on an idle machine (check ``uptime``):

(a) the engine (``netspectra.probes.walk``), loss only, its CPU default (one forward per
    point) and (a') vmap chunks of points;
(b) a naive loop that writes ``W + tD`` into the model and runs one forward per point;
(b') the same loop in channels-last;
(c) ``loss_landscapes.random_line`` when that library is installed;
then the engine's convolution GFLOP/s next to this machine's fp32 matmul GFLOP/s, the
strategy that ``strategy="measure"`` picks, the engine recording every unit's output (spectra
included) against loss only, with the loop and with vmap chunks, a walk of the last 5
units against a full walk, and the paired capture of ``branch_correlation`` (both summands of
every residual addition of a ResNet20 v2, 4096 positions per pair, band correlation
included) against a loss-only walk of the same model. With ``--device cuda``: the vmap
strategy against the loop. How far vmap chunks lead depends on the per-point work:
``--batch 16`` shows the small-batch case.

    python benchmarks/walks.py                  # CPU, all comparisons
    python benchmarks/walks.py --directions 1   # shorter
    python benchmarks/walks.py --batch 16       # small per-point work
    python benchmarks/walks.py --device cuda    # vmap vs loop on a GPU
    python benchmarks/walks.py --default-allocator   # glibc's default mmap/trim thresholds
"""

from __future__ import annotations

import argparse
import copy

import torch
import torch.nn.functional as F

from netspectra.data import load_digits32, minibatch
from netspectra.experiments._sweep import tune_allocator
from netspectra.models import CifarResNet, ToyCNN
from netspectra.probes import branch_correlation, random_direction, walk
from netspectra.probes._strategy import race


def naive_line(model, x, y, direction, n_points: int, alpha: float = 1.0) -> list[float]:
    """One forward per point with ``W + tD`` written into the model's parameters."""
    params = dict(model.named_parameters())
    start = {n: p.detach().clone() for n, p in params.items()}
    losses = []
    with torch.no_grad():
        for t in torch.linspace(0, 1, n_points).tolist():
            for n, d in direction.items():
                params[n].copy_(start[n] + alpha * t * d)
            losses.append(float(F.cross_entropy(model(x), y)))
        for n, p in params.items():
            p.copy_(start[n])
    return losses


def conv_flops(model: ToyCNN, x: torch.Tensor) -> float:
    """Multiply-adds ×2 of the convolutions and the classifier for one forward of ``x``."""
    flops = 0

    def count(module, _inputs, output):
        nonlocal flops
        w = module.weight
        flops += 2 * output.numel() * w[0].numel()

    hooks = [m.register_forward_hook(count) for m in model.modules()
             if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return float(flops)


def matmul_gflops(device: torch.device, n: int = 2048) -> float:
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    seconds = race({"matmul": lambda: a @ b}, repeats=5, device=device)["matmul"]
    return 2 * n**3 / seconds / 1e9


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--directions", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--default-allocator", action="store_true",
                        help="keep glibc's default mmap/trim thresholds (compare with and "
                             "without)")
    args = parser.parse_args(argv)
    if not args.default_allocator:
        tune_allocator()
    device = torch.device(args.device)
    data = load_digits32()
    xn, yn = minibatch(data, args.batch, seed=0)
    x, y = torch.from_numpy(xn).to(device), torch.from_numpy(yn).to(device)
    model = ToyCNN(args.units, generator=torch.Generator().manual_seed(0)).to(device)
    model.eval()
    for m in model.modules():  # the engine's "batch" mode: batch statistics, no dropout
        if isinstance(m, torch.nn.BatchNorm2d):
            m.train()
    directions = [random_direction(model, seed=s) for s in range(args.directions)]
    n = args.points * args.directions
    print(f"Toy-CNN {args.units} units, batch {args.batch}, {args.points} points × "
          f"{args.directions} directions, {torch.get_num_threads()} threads, {device}, "
          f"{'default' if args.default_allocator else 'raised'} allocator thresholds")

    def rate(seconds: float) -> float:
        return n / seconds

    def engine(**kwargs):
        return walk(model, x, directions, target=y, n_points=args.points, progress=False,
                    **kwargs)

    contenders = {}
    if device.type == "cuda":
        contenders["engine, loop"] = lambda: engine(strategy="loop")
        contenders["engine, vmap"] = lambda: engine(strategy="vmap")
    else:
        contenders["(a) engine, loss only"] = engine
        contenders["(a') engine, vmap chunks"] = lambda: engine(strategy="vmap")
    contenders["(b) naive loop"] = lambda: [naive_line(model, x, y, d, args.points)
                                            for d in directions]
    if device.type == "cpu":
        cl_model = copy.deepcopy(model).to(memory_format=torch.channels_last)
        cl_x = x.contiguous(memory_format=torch.channels_last)
        contenders["(b') naive loop, channels-last"] = lambda: [
            naive_line(cl_model, cl_x, y, d, args.points) for d in directions]
    try:
        import loss_landscapes
        import loss_landscapes.metrics
    except ImportError:
        print("(c) loss-landscapes is not installed: pip install loss-landscapes")
    else:
        metric = loss_landscapes.metrics.Loss(F.cross_entropy, x, y)

        def landscapes():
            with torch.no_grad():
                return [loss_landscapes.random_line(model, metric, steps=args.points,
                                                    normalization="model", deepcopy_model=True)
                        for _ in directions]

        contenders["(c) loss-landscapes random_line"] = landscapes
    results = {name: rate(seconds) for name, seconds in race(contenders, device=device).items()}
    width = max(map(len, results))
    base = results.get("(b) naive loop")
    for name, points_per_s in results.items():
        print(f"{name:<{width}}  {points_per_s:8.1f} points/s  {points_per_s / base:5.2f}× (b)")

    print(f"strategy='measure' picks: {engine(strategy='measure').strategy}")
    flops = conv_flops(model, x)
    achieved = ", ".join(f"{name.split(', ')[-1]} {flops * rate / 1e9:.1f}"
                         for name, rate in results.items() if name.startswith(("(a", "engine")))
    print(f"engine GFLOP/s in convolutions: {achieved}; fp32 matmul on this device: "
          f"{matmul_gflops(device):.1f}")

    walks = {}
    budget = 256 * 2**20
    times = race({
        "loss": engine,
        "subset": lambda: walks.setdefault("subset", engine(layers=model.unit_names)),
        "all": lambda: walks.setdefault("all", engine(layers=model.unit_names,
                                                      max_neurons=None, memory_budget=budget)),
    }, repeats=5, device=device)
    loss_only, every_s, all_s = times["loss"], times["subset"], times["all"]
    # A race of its own: vmap's large chunks left in the allocator slowed the loop's
    # recording walk by 15-20% when they took turns with it.
    batched = race({"loss": lambda: engine(strategy="vmap"),
                    "subset": lambda: engine(layers=model.unit_names, strategy="vmap")},
                   device=device)
    dh = max(abs(walks["subset"].fractal(u).h - walks["all"].fractal(u).h)
             for u in model.unit_names)
    for name, seconds, note in (("subset", every_s, " (the default)"), ("all", all_s, "")):
        w = walks[name]
        kept = sum(w.neurons) * args.points * 4 / 2**20
        print(f"every unit's spectra, {w.neurons[0]} of {x.shape[0] * 16 * 49} outputs per "
              f"unit{note}: {seconds / loss_only:.2f}× a loss-only walk, paths of a direction "
              f"held: {kept:.0f} MiB")
    print(f"budget for the second: {budget / 2**20:.0f} MiB; max |Δh| over the units between "
          f"the two: {dh:.3f}")
    print(f"with vmap chunks, every unit's spectra (the default subset): "
          f"{batched['subset'] / batched['loss']:.2f}× a loss-only vmap walk")

    last = [f"unit{k}" for k in range(max(1, args.units - 4), args.units + 1)]
    times = race({
        "tail": lambda: walk(model, x, args.directions, target=y, modules=last,
                             n_points=args.points, progress=False),
        "full": lambda: walk(model, x, args.directions, target=y, n_points=args.points,
                             progress=False),
    }, device=device)
    tail, full = times["tail"], times["full"]
    print(f"walk of the last {len(last)} of {args.units} units: {tail / full:.2f}× a full "
          f"walk (layers walked: {len(last) / (args.units + 2):.2f} of the network)")
    paired_capture(args, x, y, device)


def paired_capture(args, x, y, device: torch.device, batch: int = 32) -> None:
    """``branch_correlation`` on every residual addition of a ResNet20 v2 against a loss-only
    walk of the same model, points and directions (RR Fig. 6 at batch ``batch``)."""
    model = CifarResNet(20, version=2, generator=torch.Generator().manual_seed(0)).to(device)
    x, y = x[:batch], y[:batch]
    directions = [random_direction(model, seed=s) for s in range(args.directions)]
    kwargs = {"n_points": args.points, "alpha": 2.0, "progress": False}
    times = race({
        "loss": lambda: walk(model, x, directions, target=y, **kwargs),
        "pairs": lambda: branch_correlation(model, x, model.summand_pairs, directions, **kwargs),
    }, device=device)
    print(f"paired capture, {len(model.summand_pairs)} summand pairs of a ResNet20 v2 at batch "
          f"{len(x)}, band correlation included: {times['pairs'] / times['loss']:.2f}× a "
          "loss-only walk")


if __name__ == "__main__":
    main()
