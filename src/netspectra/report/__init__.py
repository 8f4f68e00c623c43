"""The report of a ``netspectra reproduce all`` run: one HTML page for both papers.

:func:`render_report` reads every ``DIR/<experiment>/result.json`` (or ``error.json`` for an
experiment that failed) and writes ``DIR/report.html``: one section per paper, one sub-section
per experiment in the paper's figure order, each with its figures (embedded, so the page opens
offline from any folder), the paper's claims with the evidence measured in the run, the values
the paper prints next to ours, and the run's settings, seed and wall time.
"""

from ._html import render_report

__all__ = ["render_report"]
