"""Command-line interface: ``netspectra list | reproduce NAME|all | chebyshev | spectra | walk``.

Thin by design: it parses arguments, calls the library and prints. Every invalid command
line (a malformed argument, a :class:`~netspectra.errors.NetspectraError` from the library,
an output path the system refuses) becomes one line ``netspectra: error: …`` on stderr and
exit code 2, never a traceback; the library checks its arguments before any work.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import NetspectraError
from .experiments import registry, reproduce
from .experiments._all import ALL_OPTIONS
from .experiments._sweep import WORKER_OPTIONS, tune_allocator
from .probes._state import BATCHNORM_MODES
from .probes._strategy import STRATEGIES

__all__ = ["main"]


def _cmd_list(args: argparse.Namespace) -> int:
    exps = registry()
    width = max((len(n) for n in exps), default=0)
    for exp in exps.values():
        print(f"{exp.name:<{width}}  {exp.reproduces:<28}  {exp.summary}")
    return 0


def _cmd_reproduce_all(args: argparse.Namespace) -> int:
    from .experiments import reproduce_all
    from .report import render_report

    status = reproduce_all(args.out, quick=args.quick, seed=args.seed, force=args.force,
                           **{opt.dest: getattr(args, opt.dest)
                              for opt in (*ALL_OPTIONS, *WORKER_OPTIONS)})
    _print_table(("experiment", "status"), list(status.items()))
    print(f"report: {render_report(args.out)}", file=sys.stderr)
    return 1 if "failed" in status.values() else 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    if args.name == "all":
        return _cmd_reproduce_all(args)
    exp = registry()[args.name]
    options = {opt.dest: getattr(args, opt.dest) for opt in exp.options}
    result = reproduce(args.name, args.out, quick=args.quick, seed=args.seed, **options)
    print(json.dumps({k: v for k, v in result.items()}, indent=2, default=str))
    print(f"written to {Path(args.out) / args.name}", file=sys.stderr)
    return 0


def _cmd_chebyshev(args: argparse.Namespace) -> int:
    from .theory import chebyshev_fit

    fit = chebyshev_fit(args.activation, args.degree, tuple(args.interval), slope=args.slope)
    if args.json:
        print(json.dumps({"chebyshev": fit.chebyshev.tolist(), "monomial": fit.monomial.tolist()}))
        return 0
    print(f"{args.activation} degree {args.degree} on [{args.interval[0]}, {args.interval[1]}]")
    print(f"{'k':>3}  {'chebyshev c_k':>16}  {'monomial t^k':>16}")
    for k, (c, m) in enumerate(zip(fit.chebyshev, fit.monomial, strict=True)):
        print(f"{k:>3}  {c:>16.8E}  {m:>16.8E}")
    return 0


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(f"{v:<{w}}" for v, w in zip(row, widths, strict=True)).rstrip())


def _output(out: str) -> Path:
    """The output folder, created before any work so that one that cannot be is refused."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise NetspectraError(f"--out must be a folder; found {out!r}, which is not one")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cmd_spectra(args: argparse.Namespace) -> int:
    import torch

    from .data import load_signal_batch
    from .models import load_model
    from .probes import activation_spectra
    from .results import save_figure

    out = _output(args.out)
    x = torch.from_numpy(load_signal_batch(args.signal))
    model = load_model(args.model, args.weights)
    spectra = activation_spectra(model, x, args.fs, layers=args.layers,
                                 per_channel=args.per_channel, mode="eval")
    spectra.save(out)
    save_figure(spectra.plot(), out / "spectra.png")
    _print_table(("layer", "fs (Hz)", "DC share", "centroid (Hz)", "95% bandwidth (Hz)"),
                 [(s.label, f"{s.fs:g}", f"{s.dc_share:.3f}", f"{s.power_centroid_hz:.4g}",
                   f"{s.bandwidth_hz:.4g}") for s in spectra.layers])
    print(f"written to {out}", file=sys.stderr)
    return 0


def _h_row(label: str, power, k, paths: str) -> tuple[str, ...]:
    """``h`` of a mean path spectrum with its standard error and R² (RR eq. 3; R² shown
    rather than warned about), or n/a where only constant paths stand behind it."""
    from .theory import fractal_coefficient

    if not (power > 0).all():
        return (label, "n/a", "", "", paths)
    fit = fractal_coefficient(power, k, min_r2=0.0)
    return (label, f"{fit.h:.3f}", f"{fit.stderr:.3f}", f"{fit.r2:.2f}", paths)


def _cmd_walk(args: argparse.Namespace) -> int:
    from .experiments._rr import check_batch_size, check_directions, check_points, fresh_batch
    from .experiments._sweep import resolve_device
    from .experiments._train_units import resolve_data, training_data
    from .models import load_model
    from .probes import ACTIVATION_TYPES, walk
    from .results import save_figure

    device = resolve_device(args.device)
    directions, points = check_directions(args.directions), check_points(args.points)
    data, root = resolve_data(args.data, args.data_root)
    out = _output(args.out)
    images = training_data(data, root)[0]
    x, y = fresh_batch(images, check_batch_size(args.batch_size, images), args.seed, device)
    model = load_model(args.model, args.weights).to(device)
    layers = args.layers if args.layers is not None else [
        n for n, m in model.named_modules() if n and isinstance(m, ACTIVATION_TYPES)]
    result = walk(model, x, directions, target=y, layers=layers or None, alpha=args.alpha,
                  n_points=points, batchnorm=args.batchnorm, seed=args.seed,
                  strategy=args.strategy)
    result.save(out)
    save_figure(result.plot(), out / "walk.png")
    rows = [_h_row("loss", result.spectrum(), result.k, "1")]
    rows += [_h_row(name, result.spectrum(name), result.k, f"{valid.mean():.0f}/{kept}")
             for name, valid, kept in zip(result.layers, result.layer_valid, result.neurons,
                                          strict=True)]
    # paths per direction: a layer's non-constant paths (mean) of those it recorded
    _print_table(("path", "h", "± stderr", "R²", "paths per direction"), rows)
    print(f"written to {out}", file=sys.stderr)
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse's parser, reporting a bad command line in one line (not usage + message)."""

    def error(self, message: str):
        self.exit(2, f"netspectra: error: {message} (see {self.prog} --help)\n")


def _add_options(parser: argparse.ArgumentParser, options) -> None:
    for opt in options:
        parser.add_argument(opt.flag, type=opt.type, default=opt.default, nargs=opt.nargs,
                            help=opt.help)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="netspectra",
        description="Spectral analysis of neural-network nonlinearities.",
    )
    parser.add_argument("--version", action="version", version=f"netspectra {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="list the experiments and the paper figure each reproduces")

    rep = sub.add_parser("reproduce", help="run one experiment and write its results")
    names = rep.add_subparsers(dest="name", required=True, metavar="NAME")
    every = names.add_parser("all", help="every experiment, then DIR/report.html",
                             description="Every experiment, then DIR/report.html. --data-root "
                             "and --device go to each experiment that takes them, the options "
                             "from --workers on to each experiment that runs units.")
    every.add_argument("--force", action="store_true",
                       help="rerun experiments already complete in DIR with the same settings")
    _add_options(every, (*ALL_OPTIONS, *WORKER_OPTIONS))
    for exp in registry().values():
        _add_options(names.add_parser(exp.name, help=f"{exp.reproduces}: {exp.summary}"),
                     exp.options)
    for p in names.choices.values():
        p.add_argument("--out", default="netspectra-out", help="output root (default: %(default)s)")
        p.add_argument("--quick", action="store_true", help="small settings, minutes not hours")
        p.add_argument("--seed", type=int, default=0,
                       help="random seed, 0 … 2**64 - 1 (default: %(default)s)")

    cheb = sub.add_parser("chebyshev", help="Chebyshev/monomial coefficients of an activation fit")
    cheb.add_argument("--activation", required=True, help="relu, tanh, softplus, … (see docs)")
    cheb.add_argument("--slope", type=float, default=None, help="negative slope of lrelu")
    cheb.add_argument("--degree", type=int, default=25, help="polynomial degree (default: 25)")
    cheb.add_argument("--interval", type=float, nargs=2, default=[-5.0, 5.0],
                      metavar=("LO", "HI"), help="fit interval (default: -5 5)")
    cheb.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_own_model_commands(sub)
    return parser


def _add_own_model_commands(sub) -> None:
    """``spectra`` and ``walk``: the probes on a model the user names (MODULE:FACTORY)."""
    spec = sub.add_parser("spectra", help="activation spectra of your own model on your signals")
    walk = sub.add_parser("walk", help="weight-space walk of your own model: h of the loss "
                                       "and of each layer's paths")
    for p, name in ((spec, "spectra"), (walk, "walk")):
        p.add_argument("--model", required=True, metavar="MODULE:FACTORY",
                       help="importable module or path/to/file.py, and a callable in it that "
                            "returns the nn.Module")
        p.add_argument("--weights", metavar="FILE",
                       help="state_dict saved with torch.save (read with weights_only=True)")
        p.add_argument("--layers", nargs="+", metavar="NAME",
                       help="qualified module names to record (default: every activation "
                            "module)")
        p.add_argument("--out", default=f"netspectra-out/{name}", metavar="DIR",
                       help="output folder (default: %(default)s)")
    spec.add_argument("--signal", required=True, metavar="FILE",
                      help="CSV (one signal per row) or .npy of shape (N, L), (N, C, L) or "
                           "(N, C, H, W)")
    spec.add_argument("--fs", type=float, required=True, metavar="HZ",
                      help="sampling rate of the signal in Hz (samples per unit length)")
    spec.add_argument("--per-channel", action="store_true",
                      help="also keep each channel's amplitude spectrum")
    walk.add_argument("--data", metavar="NAME",
                      help="digits, cifar10 or cifar100: the images the minibatch is drawn "
                           "from (default: the embedded digits; cifar10 with --data-root)")
    walk.add_argument("--data-root", metavar="DIR",
                      help="folder with the binary distribution of CIFAR-10 or CIFAR-100")
    walk.add_argument("--directions", type=int, default=10, metavar="N",
                      help="random unit-norm directions (default: %(default)s)")
    walk.add_argument("--points", type=int, default=100, metavar="N",
                      help="points per path, 12 … 2000 (default: %(default)s)")
    walk.add_argument("--alpha", type=float, default=1.0, metavar="A",
                      help="walk radius in weight space (default: %(default)s)")
    walk.add_argument("--batchnorm", choices=BATCHNORM_MODES, default="batch",
                      help="batch-norm statistics along the path (default: %(default)s)")
    walk.add_argument("--batch-size", type=int, default=128, metavar="N",
                      help="images in the minibatch (default: %(default)s)")
    walk.add_argument("--seed", type=int, default=0, metavar="N",
                      help="seeds the minibatch and the directions (default: %(default)s)")
    walk.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    walk.add_argument("--strategy", choices=STRATEGIES,
                      default="auto", help="how points are evaluated (default: %(default)s)")


_COMMANDS = {"list": _cmd_list, "reproduce": _cmd_reproduce, "chebyshev": _cmd_chebyshev,
             "spectra": _cmd_spectra, "walk": _cmd_walk}


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.strerror or exc}: {exc.filename}"
    return " ".join(str(exc).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``netspectra`` console script; returns the exit code.

    As the command (``argv`` None) it raises glibc's allocator thresholds in its own process
    for speed (:func:`~netspectra.experiments._sweep.tune_allocator`); called with ``argv``
    from Python it leaves the process as found.
    """
    if argv is None:
        tune_allocator()
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (NetspectraError, OSError) as exc:
        print(f"netspectra: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("netspectra: interrupted (finished units are kept; rerun to resume)",
              file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
