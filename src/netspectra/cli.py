"""Command-line interface: ``netspectra list | reproduce NAME | chebyshev``.

Thin by design: it parses arguments, calls the library and prints. Invalid input
(:class:`~netspectra.errors.NetspectraError`) becomes a one-line message and exit code 2.
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

__all__ = ["main"]


def _cmd_list(args: argparse.Namespace) -> int:
    exps = registry()
    width = max((len(n) for n in exps), default=0)
    for exp in exps.values():
        print(f"{exp.name:<{width}}  {exp.reproduces:<28}  {exp.summary}")
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netspectra",
        description="Spectral analysis of neural-network nonlinearities.",
    )
    parser.add_argument("--version", action="version", version=f"netspectra {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="list the experiments and the paper figure each reproduces")

    rep = sub.add_parser("reproduce", help="run one experiment and write its results")
    names = rep.add_subparsers(dest="name", required=True, metavar="NAME")
    for exp in registry().values():
        p = names.add_parser(exp.name, help=f"{exp.reproduces}: {exp.summary}")
        p.add_argument("--out", default="netspectra-out", help="output root (default: %(default)s)")
        p.add_argument("--quick", action="store_true", help="small settings, minutes not hours")
        p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
        for opt in exp.options:
            p.add_argument(opt.flag, type=opt.type, default=opt.default, nargs=opt.nargs,
                           help=opt.help)

    cheb = sub.add_parser("chebyshev", help="Chebyshev/monomial coefficients of an activation fit")
    cheb.add_argument("--activation", required=True, help="relu, tanh, softplus, … (see docs)")
    cheb.add_argument("--slope", type=float, default=None, help="negative slope of lrelu")
    cheb.add_argument("--degree", type=int, default=25, help="polynomial degree (default: 25)")
    cheb.add_argument("--interval", type=float, nargs=2, default=[-5.0, 5.0],
                      metavar=("LO", "HI"), help="fit interval (default: -5 5)")
    cheb.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


_COMMANDS = {"list": _cmd_list, "reproduce": _cmd_reproduce, "chebyshev": _cmd_chebyshev}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``netspectra`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except NetspectraError as exc:
        print(f"netspectra: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
