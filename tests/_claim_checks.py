"""Checks of the ``claims`` and ``paper_values`` an experiment writes into result.json."""

import json
import re
from pathlib import Path

#: A claim names where the paper makes it.
_WHERE = re.compile(r"\b(Fig\.|Table|Eq\.|eq\.|Appendix)")


def saved_claims(directory: Path) -> list[dict]:
    """The claims in ``directory/result.json``, after checking that each names a figure, table
    or equation, has a bool verdict and evidence, and that every paper value is well formed."""
    saved = json.loads((directory / "result.json").read_text())
    claims = saved["claims"]
    assert claims, f"{directory.name}: no claims"
    for c in claims:
        assert set(c) == {"claim", "holds", "evidence"}, c
        assert _WHERE.search(c["claim"]), f"claim names no figure: {c['claim']!r}"
        assert isinstance(c["holds"], bool) and c["evidence"].strip(), c
    for row in saved["paper_values"]:
        assert set(row) == {"quantity", "paper", "ours"} and row["quantity"].strip(), row
    return claims


def verdict(claims: list[dict], fragment: str) -> bool:
    """The verdict of the one claim whose sentence contains ``fragment``."""
    [match] = [c for c in claims if fragment in c["claim"]]
    return match["holds"]
