"""Wall time of the dc-training sweep (DC paper Fig. 4) per variant-run, against the authors'.

The authors' TensorFlow script took 31 s per repetition of its 3 variants on the 2-core
reference machine (≈10.3 s per variant-run, ≈52 min for 100 repetitions); the goal is at
least 1.5× faster per variant-run. Each strategy (worker processes × threads per worker)
runs the same units in a fresh directory; ``workers × threads`` never exceeds the cores.

    python benchmarks/dc_training.py                     # the full default run
    python benchmarks/dc_training.py --plans 1x2 2x1     # one 2-thread process vs 2 workers
    python benchmarks/dc_training.py --reps 1 --epochs 2 --plans 1x1  # a smoke test
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from netspectra.experiments import dc_training
from netspectra.experiments._sweep import available_cores, tune_allocator

AUTHORS_SECONDS_PER_VARIANT_RUN = 31.0 / 3


def _plan(text: str) -> tuple[int, int]:
    workers, threads = text.lower().split("x")
    return int(workers), int(threads)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--n-per-class", type=int, default=1024)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--plans", type=_plan, nargs="+", metavar="WxT",
                        help="strategies as WORKERSxTHREADS (default: the library's, one "
                             "1-thread worker per core; compare e.g. with --plans 1x2 2x1)")
    args = parser.parse_args(argv)
    tune_allocator()  # as the workers and the command do: a 1-worker plan runs in this process
    cores = available_cores()
    plans = args.plans or [(cores, 1) if args.device == "cpu" else (1, 1)]
    runs = args.reps * len(dc_training.VARIANTS)
    scale = 60 / args.epochs * args.n_per_class / 1024  # to the paper's run length
    print(f"{cores} cores, {args.reps} reps × {len(dc_training.VARIANTS)} variants × "
          f"{args.epochs} epochs, {args.n_per_class} windows/class, device {args.device}")
    print(f"authors (TensorFlow): {AUTHORS_SECONDS_PER_VARIANT_RUN:.2f} s per variant-run "
          "(60 epochs, 1024 windows/class)")
    for workers, threads in plans:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            result = dc_training.run(Path(tmp), quick=False, seed=0, reps=args.reps,
                                     epochs=args.epochs, workers=workers, threads=threads,
                                     device=args.device, n_per_class=args.n_per_class)
            seconds = time.perf_counter() - start
        per_run = seconds / runs
        equivalent = per_run * scale
        print(f"{workers} worker(s) × {threads} thread(s): {seconds:8.1f} s total, "
              f"{per_run:7.3f} s per variant-run ({equivalent:6.2f} s at the paper's length), "
              f"speed-up vs authors {AUTHORS_SECONDS_PER_VARIANT_RUN / equivalent:5.2f}×")
        print("  one unit in its worker, by variant: " + ", ".join(
            f"{v} {s * scale:.2f} s" for v, s in result["unit_seconds"].items()))


if __name__ == "__main__":
    main()
