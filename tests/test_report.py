"""`reproduce all` and its HTML report."""

import json
import re
import shutil

import pytest

from netspectra.experiments import _all, registry, reproduce
from netspectra.experiments._registry import run_settings
from netspectra.report import render_report

#: Settings small enough that every experiment runs in seconds.
TINY_TOY = {"width": 4, "batch_size": 4, "points": 12, "directions": 1, "workers": 1}
TINY_RESNET = {"depth": 8, "batch_size": 4, "points": 12, "directions": 1, "workers": 1}
TINY_TRAINING = {"epochs": 1, "size": 8, "log_every": 1, "workers": 1, "device": "cpu"}
TINY_RUNS = {
    "dc-training": {"reps": 1, "epochs": 2, "workers": 1},
    "layer-spectra": {"depth": 4, "activations": ["relu"], **TINY_TOY},
    "layer-walk": {"depth": 4, **TINY_TOY},
    "roughness-depth": {"depths": [2, 4], "inits": 1, **TINY_TOY},
    "loss-paths": {"slopes": [1.0, 0.0], "shortcut_weights": [0.0, 1.0], **TINY_RESNET},
    "branch-correlation": {"bands": 4, "positions": 64, **TINY_RESNET},
    "resnet-v1-v2": {"inits": 1, **TINY_RESNET},
    "feature-averaging": {"averaging": [1, 2], "inits": 1, "depth": 4, **TINY_TOY},
    "averaging-training": {"runs": 1, "depth": 8, "train_batch": 64, **TINY_TRAINING},
    "trainability": {"depths": [8], "slopes": [0.0], "directions": 1, "batch_size": 8,
                     "points": 12, **TINY_TRAINING},
}


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory, one_thread):
    """Every registered experiment run once at tiny settings into one folder."""
    out = tmp_path_factory.mktemp("all")
    for name in registry():
        reproduce(name, out, quick=True, **TINY_RUNS.get(name, {}))
    return out


def test_report_has_every_experiment_with_figures_and_claims(report_folder):
    html = render_report(report_folder).read_text()
    for name, exp in registry().items():
        section = re.search(f'<section class="experiment" id="{name}">(.*?)</section>', html,
                            re.S)
        assert section, name
        body = section.group(1)
        assert exp.reproduces in body and "data:image/png;base64," in body, name
        assert re.search(r'class="(holds|fails)"', body), f"{name} shows no claim"
    # the paper groups come in paper order, DC before RR
    assert html.index("DC is all you need") < html.index("Ringing ReLUs")


def _fake_reproduce(calls, failing=()):
    def run(name, out, *, quick, seed, **options):
        calls.append(name)
        if name in failing:
            raise RuntimeError(f"{name} <broke>")
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        settings = run_settings(registry()[name], quick=quick, seed=seed, options=options)
        result = {"experiment": name, **settings}
        (folder / "result.json").write_text(json.dumps(result))
        return result
    return run


def test_reproduce_all_skips_complete_runs_and_survives_failures(tmp_path, monkeypatch):
    names = list(registry())[:3]
    calls = []
    monkeypatch.setattr(_all, "reproduce", _fake_reproduce(calls, failing={names[1]}))
    status = _all.reproduce_all(tmp_path, quick=True, names=names, progress=False)
    assert status == {names[0]: "ran", names[1]: "failed", names[2]: "ran"}
    error = json.loads((tmp_path / names[1] / "error.json").read_text())
    assert "RuntimeError" in error["error"] and error["quick"] is True

    calls.clear()
    monkeypatch.setattr(_all, "reproduce", _fake_reproduce(calls))
    status = _all.reproduce_all(tmp_path, quick=True, names=names, progress=False)
    assert calls == [names[1]] and status[names[0]] == "done" and status[names[1]] == "ran"
    assert not (tmp_path / names[1] / "error.json").exists()

    calls.clear()
    _all.reproduce_all(tmp_path, quick=False, names=names, progress=False)
    assert calls == names  # other settings: nothing is complete
    calls.clear()
    _all.reproduce_all(tmp_path, quick=False, names=names, force=True, progress=False)
    assert calls == names


def test_report_escapes_and_shows_failures(tmp_path, monkeypatch):
    names = list(registry())[:2]
    monkeypatch.setattr(_all, "reproduce", _fake_reproduce([], failing={names[0]}))
    _all.reproduce_all(tmp_path, names=names, progress=False)
    html = render_report(tmp_path).read_text()
    assert "&lt;broke&gt;" in html and "<broke>" not in html
    for name in registry():
        assert f'id="{name}"' in html


def _browser():
    """Headless Chromium through Selenium and Debian's chromedriver, or skip."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    driver_path, browser_path = shutil.which("chromedriver"), shutil.which("chromium")
    if not driver_path or not browser_path:
        pytest.skip("headless Chromium (Debian: chromium, chromium-driver) is not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = browser_path
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)


def test_report_renders_in_a_browser(report_folder, tmp_path):
    """Every image decodes, the console stays clean, and nothing is fetched from a network."""
    html = render_report(report_folder)
    text = html.read_text()
    assert "http://" not in text and "https://" not in text
    driver = _browser()
    try:
        driver.get(html.as_uri())
        widths = driver.execute_script(
            "return Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        driver.save_screenshot(str(tmp_path / "report-top.png"))
    finally:
        driver.quit()
    assert widths and all(w > 0 for w in widths)
    assert errors == []


def test_reproduce_all_passes_data_root_and_device_where_taken(tmp_path, monkeypatch):
    given = {}

    def fake_reproduce(name, out, *, quick, seed, **options):
        given[name] = options
        _fake_reproduce([])(name, out, quick=quick, seed=seed, **options)

    monkeypatch.setattr(_all, "reproduce", fake_reproduce)
    names = ["relu-series", "dc-training", "roughness-depth", "trainability"]
    cifar = tmp_path / "cifar"
    cifar.mkdir()
    _all.reproduce_all(tmp_path / "out", names=names, data_root=cifar, device="cpu",
                       workers=1, progress=False)
    assert given == {"relu-series": {}, "dc-training": {"device": "cpu", "workers": 1},
                     "roughness-depth": {"data_root": cifar, "device": "cpu", "workers": 1},
                     "trainability": {"data_root": cifar, "device": "cpu", "workers": 1}}
    # the data and the device change the numbers: a run without them is not complete, but
    # for dc-training "cpu" is the default device, so its run is
    status = _all.reproduce_all(tmp_path / "out", names=names, workers=1, progress=False)
    assert status == {"relu-series": "done", "dc-training": "done", "roughness-depth": "ran",
                      "trainability": "ran"}


@pytest.mark.parametrize(("options", "message"), [
    ({"data_root": "no/such/folder"}, "data_root must be a folder"),
    ({"device": "tpu"}, "unknown device .tpu."),
])
def test_reproduce_all_refuses_bad_data_root_or_device_first(tmp_path, monkeypatch, options,
                                                             message):
    monkeypatch.setattr(_all, "reproduce", _fake_reproduce(calls := []))
    with pytest.raises(ValueError, match=message):
        _all.reproduce_all(tmp_path, names=["relu-series"], progress=False, **options)
    assert calls == [] and not any(tmp_path.iterdir())
