"""A check every experiment that runs units shares: runs into one reused output folder give
each run the result.json that the same run gives in a fresh folder."""

import json
from pathlib import Path

from netspectra.experiments import reproduce

#: Keys of result.json that measure time, not the experiment.
TIMING = frozenset({"seconds", "seconds_per_variant_run", "unit_seconds"})


def _result(name: str, out: Path, seed: int, quick: bool, options: dict, timing) -> dict:
    reproduce(name, out, seed=seed, quick=quick, **options)
    saved = json.loads((out / name / "result.json").read_text())
    return {k: v for k, v in saved.items() if k not in timing}


def assert_runs_match_fresh(tmp_path: Path, name: str, runs: list, timing=TIMING) -> None:
    """Run ``runs`` (each ``(seed, quick, options)``) one after another into one folder and
    each distinct run into a fresh one; the result.json files must agree (keys in ``timing``
    aside), and distinct runs must differ (so that the check can fail)."""
    shared = tmp_path / "shared"
    fresh: dict[str, dict] = {}
    for i, (seed, quick, options) in enumerate(runs):
        again = _result(name, shared, seed, quick, options, timing)
        config = json.dumps([seed, quick, options], sort_keys=True)
        if config not in fresh:
            fresh[config] = _result(name, tmp_path / f"fresh{i}", seed, quick, options, timing)
        assert again == fresh[config], f"run {i} of {name} into a reused folder differs"
    assert len({json.dumps(r, sort_keys=True) for r in fresh.values()}) == len(fresh)
