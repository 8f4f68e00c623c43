"""Ringing ReLUs Table 1 and Figs. 2, 18, 19: degree-25 Chebyshev fits of eleven activations."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.polynomial import Chebyshev, Polynomial

from ..errors import NetspectraError
from ..results import Result, save_figure
from ..theory import activation, chebyshev_fit
from ..theory.chebyshev import TABLE1_POINTS
from ._claims import claim, paper_value
from ._registry import experiment

DEGREE = 25
INTERVAL = (-5.0, 5.0)
# Table 1's rows: name -> (activation, negative slope).
ROWS: dict[str, tuple[str, float | None]] = {
    "relu": ("relu", None),
    "tanh": ("tanh", None),
    "softplus": ("softplus", None),
    "elu": ("elu", None),
    "gelu": ("gelu", None),
    "htanh": ("htanh", None),
    "lrelu": ("lrelu", 0.01),
    "selu": ("selu", None),
    "sigmoid": ("sigmoid", None),
    "lrelu_0.25": ("lrelu", 0.25),
    "lrelu_0.75": ("lrelu", 0.75),
}
# Entries at or below this magnitude are rounding noise of odd/even symmetry (issue 3).
COMPARE_ABOVE = 1e-8
# A relative difference this large, with the digits otherwise equal, is not a fitting detail.
MISPRINT_RELATIVE = 1e-3
# Fig. 19's panels: which rows each shows.
PANELS = (
    ("(a) relu, tanh, softplus", ("relu", "tanh", "softplus")),
    ("(b) leaky relu slopes", ("relu", "lrelu", "lrelu_0.25", "lrelu_0.75")),
    ("(c) relu, tanh, sigmoid, htanh", ("relu", "tanh", "sigmoid", "htanh")),
    ("(d) relu, elu, gelu, selu", ("relu", "elu", "gelu", "selu")),
)


def printed_table1() -> dict[str, np.ndarray]:
    """RR Table 1 as printed: row name -> 26 monomial coefficients t^0..t^25."""
    text = resources.files(__package__).joinpath("data/rr_table1.csv").read_text()
    rows = [r for r in csv.reader(text.splitlines()) if r and not r[0].startswith("#")]
    return {r[0]: np.array(r[1:], dtype=np.float64) for r in rows[1:]}


@dataclass(frozen=True)
class ChebyshevTable(Result):
    """Monomial coefficients (rows: ``names``; columns t^0..t^degree) of our fits and of the
    printed table, plus the Chebyshev coefficients of the same fits on the mapped interval."""

    names: list
    monomial: np.ndarray
    printed: np.ndarray
    chebyshev: np.ndarray

    def plot(self, ax=None):
        """RR Fig. 19: |monomial coefficient| against order, log scale.

        ``ax`` None draws the four panels of Fig. 19 on a new figure; four Axes (e.g.
        ``plt.subplots(2, 2)[1]``) receive those panels; a single Axes receives every row in
        one panel.
        """
        panels, axes = self._panels(ax)
        order = np.arange(self.monomial.shape[1])
        for axis, (title, names) in zip(axes, panels, strict=True):
            for name in names:
                row = self.monomial[self.names.index(name)]
                keep = row != 0  # all orders, as Fig. 19 (symmetry zeros show as round-off)
                axis.semilogy(order[keep], np.abs(row[keep]), "o-", ms=3, label=name)
            axis.set(title=title, xlabel="order j", ylabel="|a_j| (fit on [-5, 5])")
            axis.legend(fontsize=8)
        fig = axes[0].figure
        if ax is None:
            fig.suptitle("RR Fig. 19: monomial coefficients of degree-25 Chebyshev fits")
            fig.tight_layout()
        return fig

    def _panels(self, ax) -> tuple[tuple, list]:
        """Fig. 19's panels and the Axes to draw them on (see :meth:`plot`)."""
        from matplotlib.axes import Axes

        if isinstance(ax, Axes):
            return (("RR Fig. 19: all rows", tuple(self.names)),), [ax]
        if ax is None:
            import matplotlib.pyplot as plt

            ax = plt.subplots(2, 2, figsize=(10, 7), sharey=True)[1]
        axes = list(np.ravel(np.asarray(ax, dtype=object)))
        if len(axes) != len(PANELS) or not all(isinstance(a, Axes) for a in axes):
            raise NetspectraError(
                f"ax must be None, one matplotlib Axes or {len(PANELS)} Axes (one per panel of "
                f"Fig. 19); found {type(ax).__name__}"
            )
        return PANELS, axes


def _fits(interval) -> dict:
    return {name: chebyshev_fit(act, DEGREE, interval, slope=slope)
            for name, (act, slope) in ROWS.items()}


def _misprint_evidence(name: str, k: int) -> dict:
    """The coefficient under several reasonable procedures (point counts, node interpolation)."""
    act, slope = ROWS[name]
    values = {f"lstsq_{n}_points": float(chebyshev_fit(act, DEGREE, INTERVAL, slope=slope,
                                                      n_points=n).monomial[k])
              for n in (999, TABLE1_POINTS, 1001, 10_000)}
    values["interpolation_at_chebyshev_nodes"] = float(_node_interpolation(act, slope)[k])
    return values


def _node_interpolation(act: str, slope: float | None) -> np.ndarray:
    """What the paper's prose describes: interpolation at the degree-25 Chebyshev nodes."""
    fn = activation(act, slope=slope)
    p = Chebyshev.interpolate(fn, DEGREE, domain=list(INTERVAL))
    return p.convert(kind=Polynomial).coef


def _fig2(out: Path) -> dict:
    """RR Fig. 2: |Chebyshev coefficient c_k| (interval mapped to [-1, 1]) for relu, tanh,
    softplus, fitted on [-1, 1] (Fig. 2) and on [-5, 5] (Fig. 19's interval). Returns the
    largest of the last two |c_k| per function and interval (relu's odd and softplus' odd
    coefficients above 1 vanish, tanh's even ones do)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    tails: dict = {}
    for axis, interval in zip(axes, ((-1.0, 1.0), INTERVAL), strict=True):
        key = f"[{interval[0]:g}, {interval[1]:g}]"
        tails[key] = {}
        for name in ("relu", "tanh", "softplus"):
            c = chebyshev_fit(name, DEGREE, interval).chebyshev
            keep = np.abs(c) > 1e-13 * np.abs(c).max()  # drop the round-off of symmetry zeros
            axis.semilogy(np.flatnonzero(keep), np.abs(c[keep]), "o-", ms=3, label=name)
            tails[key][name] = float(np.max(np.abs(c[-2:])))
        axis.set(xlabel="order k", ylabel="|c_k| (Chebyshev basis on the mapped interval)",
                 title=f"RR Fig. 2: fit on {key}")
        axis.legend(loc="upper right")
    save_figure(fig, out / "fig2_chebyshev_decay.png")
    return tails


def _fig18(out: Path, fits: dict) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 4, figsize=(13, 8))
    for axis, (name, fit) in zip(axes.flat, fits.items(), strict=False):
        act, slope = ROWS[name]
        fit.plot(axis, function=activation(act, slope=slope))
        axis.set_title(name)
    axes.flat[-1].axis("off")
    fig.suptitle("RR Fig. 18: degree-25 Chebyshev fits on [-5, 5]")
    fig.tight_layout()
    save_figure(fig, out / "fig18_fits.png")


def _claims(rel: np.ndarray, compared: np.ndarray, misprints: list[dict],
            tails: dict) -> list[dict]:
    """Table 1 holds when every printed entry above COMPARE_ABOVE agrees to 1e-6 relative, so
    a probable misprint makes it fail (the evidence names it). Fig. 2 holds when the tail of
    the Chebyshev coefficients orders softplus < tanh < relu on every fitted interval."""
    flagged = "; ".join(f"{m['name']} t^{m['power']} printed {m['printed']:.7E}, fitted "
                        f"{m['fitted']:.7E}" for m in misprints) or "none"
    agree = (rel <= 1e-6) & compared
    tail = "; ".join(f"{key}: " + ", ".join(f"{n} {v:.2g}" for n, v in t.items())
                     for key, t in tails.items())
    return [
        claim("Table 1: degree-25 Chebyshev fits on [−5, 5] give the printed monomial "
              "coefficients", bool(agree.sum() == compared.sum()),
              f"{int(agree.sum())} of {int(compared.sum())} entries agree to 1e-6 relative "
              f"(worst {rel[agree].max():.1e}); disagreeing: {flagged}"),
        claim("Fig. 2: relu's Chebyshev coefficients decay slowest, softplus' fastest",
              all(t["softplus"] < t["tanh"] < t["relu"] for t in tails.values()),
              f"largest of the last two |c_k|: {tail}"),
    ]


def _paper_values(names: list, ours: np.ndarray, table: np.ndarray,
                  compared: np.ndarray, misprints: list[dict]) -> list[dict]:
    """Per row the lowest and highest power compared, and every probable misprint."""
    picks = [(i, k) for i in range(len(names))
             for k in (np.flatnonzero(compared[i])[[0, -1]])]
    picks += [(names.index(m["name"]), m["power"]) for m in misprints]
    return [paper_value(f"Table 1: {names[i]} t^{k}", float(table[i, k]), float(ours[i, k]))
            for i, k in picks]


@experiment(
    "chebyshev-table",
    reproduces="RR Table 1, Figs. 2, 18, 19",
    summary="degree-25 Chebyshev fits of 11 activations vs the printed table",
)
def run(out: Path, *, quick: bool, seed: int) -> dict:
    """Fit all rows, compare with the printed Table 1, flag probable misprints, draw the figures."""
    fits = _fits(INTERVAL)
    printed = printed_table1()
    names = list(ROWS)
    ours = np.array([fits[n].monomial for n in names])
    table = np.array([printed[n] for n in names])
    table_result = ChebyshevTable(names, ours, table, np.array([fits[n].chebyshev for n in names]))
    table_result.save(out / "table")
    save_figure(table_result.plot(), out / "fig19_monomial_decay.png")
    _fig18(out, fits)
    tails = _fig2(out)

    with open(out / "table1.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", *(f"t{k}" for k in range(DEGREE + 1))])
        writer.writerows([name, *(f"{v:.7E}" for v in row)]
                         for name, row in zip(names, ours, strict=True))

    compared = np.abs(table) > COMPARE_ABOVE
    rel = np.where(compared, np.abs(ours - table) / np.where(compared, np.abs(table), 1.0), 0.0)
    misprints = []
    for i, k in zip(*np.nonzero(rel > MISPRINT_RELATIVE), strict=True):
        name = names[i]
        misprints.append({
            "name": name, "power": int(k), "printed": float(table[i, k]),
            "fitted": float(ours[i, k]),
            "same_digits_opposite_sign": bool(
                abs(ours[i, k] + table[i, k]) < 1e-6 * abs(table[i, k])
            ),
            "other_procedures": _misprint_evidence(name, int(k)),
            "neighbours_printed": table[i, max(k - 4, 0): k + 5].tolist(),
        })
    ok = rel <= MISPRINT_RELATIVE
    with open(out / "comparison_with_printed.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "power", "printed", "fitted", "relative_error", "verdict"])
        for i, k in zip(*np.nonzero(compared), strict=True):
            verdict = "agrees" if ok[i, k] else "probable misprint"
            writer.writerow([names[i], k, f"{table[i, k]:.7E}", f"{ours[i, k]:.7E}",
                             f"{rel[i, k]:.2e}", verdict])
    return {
        "coefficients": {n: row.tolist() for n, row in zip(names, ours, strict=True)},
        "procedure": (f"least-squares Chebyshev fit, degree {DEGREE}, {TABLE1_POINTS} evenly "
                      f"spaced points on [{INTERVAL[0]:g}, {INTERVAL[1]:g}] (ends included), "
                      "interval mapped to [-1, 1], converted to powers of t"),
        "entries_compared": int(compared.sum()),
        "worst_relative_error": float(rel[ok & compared].max()),
        "probable_misprints": misprints,
        "chebyshev_tail": tails,
        "claims": _claims(rel, compared, misprints, tails),
        "paper_values": _paper_values(names, ours, table, compared, misprints),
    }
