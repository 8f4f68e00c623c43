"""Collect the results of an output folder and render them through the Jinja2 template."""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from .. import __version__
from ..errors import NetspectraError
from ..experiments import registry
from ..experiments._all import ERROR_NAME
from ..results import atomic_write_text

__all__ = ["render_report"]

#: The two papers, in the order the report shows them, keyed by the prefix of
#: ``Experiment.reproduces`` ("DC Fig. 1", "RR Table 1, Figs. 2, 18").
PAPERS = {
    "DC": "DC is all you need (Kechris et al.)",
    "RR": "Ringing ReLUs (Mehmeti-Gopel, Hartmann, Wand, ICLR 2021)",
}
#: The first figure a ``reproduces`` text names orders it within its paper; a table or an
#: equation only where it names no figure.
_FIGURE = re.compile(r"Figs?\.\s*(\d+)")
_OTHER = re.compile(r"(?:Table|eq\.)\s*(\d+|[IVX]+)")
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}
#: Keys of result.json that describe the run rather than its findings.
_RUN_KEYS = ("experiment", "reproduces", "seed", "quick", "version", "seconds", "options",
             "claims", "paper_values", "figures")


@dataclass(frozen=True)
class Section:
    """What the report shows of one experiment."""

    name: str
    reproduces: str
    summary: str
    status: str  # "ok", "failed" or "missing"
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    figures: tuple[tuple[str, str, str], ...] = ()  # (file name, caption, data URI)
    claims: tuple[dict[str, Any], ...] = ()
    paper_values: tuple[dict[str, Any], ...] = ()
    headline: tuple[tuple[str, str], ...] = ()
    settings: tuple[tuple[str, str], ...] = ()


def _paper_order(reproduces: str) -> tuple[str, int]:
    paper = reproduces.split(" ", 1)[0]
    match = _FIGURE.search(reproduces) or _OTHER.search(reproduces)
    number = match.group(1) if match else "0"
    return paper, int(number) if number.isdigit() else _ROMAN.get(number, 0)


def _caption(path: Path, reproduces: str, captions: dict[str, str]) -> str:
    return captions.get(path.name) or f"{reproduces}: {path.stem.replace('_', ' ')}"


def _figures(directory: Path, reproduces: str, captions: dict[str, str]):
    for path in sorted(directory.glob("*.png")):
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        yield path.name, _caption(path, reproduces, captions), f"data:image/png;base64,{data}"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    if isinstance(value, (list, tuple)) and len(value) > 12:
        return "[" + ", ".join(_fmt(v) for v in value[:12]) + f", … ({len(value)} values)]"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_fmt(v)}" for k, v in value.items())
    return str(value)


def _difference(row: dict[str, Any]) -> str:
    paper, ours = row.get("paper"), row.get("ours")
    if isinstance(paper, (int, float)) and isinstance(ours, (int, float)) and paper:
        return f"{ours - paper:+.3g} ({(ours - paper) / abs(paper):+.1%})"
    return ""


def _section(directory: Path, exp) -> Section:
    result_path, error_path = directory / "result.json", directory / ERROR_NAME
    base = {"name": exp.name, "reproduces": exp.reproduces, "summary": exp.summary}
    if error_path.is_file():
        error = json.loads(error_path.read_text())
        return Section(**base, status="failed", error=str(error.get("error", "")), result=error)
    if not result_path.is_file():
        return Section(**base, status="missing")
    result = json.loads(result_path.read_text())
    rows = tuple({**row, "paper_text": _fmt(row.get("paper")), "ours_text": _fmt(row.get("ours")),
                  "difference": _difference(row)} for row in result.get("paper_values", ()))
    headline = tuple((k, _fmt(v)) for k, v in result.items() if k not in _RUN_KEYS)
    settings = (("seed", str(result.get("seed"))), ("quick", str(result.get("quick"))),
                ("options", _fmt(result.get("options")) or "the defaults"),
                ("netspectra", str(result.get("version"))),
                ("wall time", f"{float(result.get('seconds', 'nan')):.1f} s"))
    return Section(**base, status="ok", result=result, settings=settings,
                   figures=tuple(_figures(directory, exp.reproduces, result.get("figures", {}))),
                   claims=tuple(result.get("claims", ())), paper_values=rows, headline=headline)


def render_report(out: str | Path) -> Path:
    """Write ``out/report.html`` from the experiments' folders in ``out``; returns its path.

    Experiments without a folder are listed as not run; one whose last run failed shows its
    error. The page embeds its figures as data URIs and loads nothing from the network.
    """
    out = Path(out)
    if not out.is_dir():
        raise NetspectraError(f"out must be an existing folder of results; found {str(out)!r}")
    sections: dict[str, list[Section]] = {key: [] for key in PAPERS}
    experiments = sorted(registry().values(), key=lambda e: _paper_order(e.reproduces))
    for exp in experiments:
        paper = _paper_order(exp.reproduces)[0]
        sections.setdefault(paper, []).append(_section(out / exp.name, exp))
    every = [s for group in sections.values() for s in group]
    claims = [c for s in every for c in s.claims]
    env = Environment(loader=PackageLoader("netspectra.report"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    html = env.get_template("report.html.j2").render(
        papers=[(PAPERS.get(key, key), group) for key, group in sections.items() if group],
        version=__version__, n_ok=sum(s.status == "ok" for s in every),
        n_failed=sum(s.status == "failed" for s in every), n_total=len(every),
        n_claims=len(claims), n_holding=sum(bool(c.get("holds")) for c in claims),
    )
    return atomic_write_text(out / "report.html", html)
