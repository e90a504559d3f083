"""Study reports as a person sees them: rendered by headless Chromium (no network), key results first.

Chromium is installed by `.ci/run` where the machine lacks it (Debian package ``chromium``); without
it these tests are skipped and the reports are still checked as HTML by the study tests.
"""

import json
import re
import shutil
import subprocess
from dataclasses import replace

import pytest

from uqbridge.study import load_study, run_study

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")

PROBE = """<script>
window.addEventListener("load", () => {
  const first = document.querySelector("h1").nextElementSibling;
  document.body.setAttribute("data-first", first ? first.tagName + "." + first.className : "none");
  const second = first ? first.nextElementSibling : null;
  document.body.setAttribute("data-second", second ? second.tagName + "." + second.className : "none");
  const box = document.querySelector("section.key-results");
  document.body.setAttribute("data-box-notes", box ? box.querySelectorAll(".note, .warnings, li").length : -1);
  const row = box ? box.querySelector("tbody tr td.text") : null;
  document.body.setAttribute("data-first-row", row ? row.textContent : "");
  document.body.setAttribute("data-images",
    Array.from(document.images).map(i => i.complete ? i.naturalWidth + "x" + i.naturalHeight : "0x0").join(","));
  document.body.setAttribute("data-headless-tables",
    Array.from(document.querySelectorAll("table")).filter(t => !t.querySelector("th")).length);
});
</script></body>"""

STUDY = """
[study]
name = "render"
title = "Rendering check: Ishigami with a threshold"
seed = 5
[model]
name = "ishigami"
[[analyses]]
kind = "propagate"
n = 512
[[analyses]]
kind = "decompose"
n = 512
[[analyses]]
kind = "reliability"
limit_state = { output = "y", threshold = 12.0, failure = "above" }
methods = ["monte_carlo"]
monte_carlo = { target_cov = 0.3, max_runs = 20000, batch = 10000 }
[[analyses]]
kind = "sensitivity"
methods = ["sobol", "morris"]
n = 512
"""


def chromium(*args, tmp_path):
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    return subprocess.run([*common, *args], capture_output=True, text=True, timeout=180, check=True)


def rendered(report, tmp_path):
    """The report's DOM after Chromium has laid it out, with the probe's attributes on <body>."""
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text().replace("</body>", PROBE))
    return chromium("--virtual-time-budget=10000", "--dump-dom", probe.as_uri(), tmp_path=tmp_path).stdout


def probed(dom, name):
    return re.search(rf'data-{name}="([^"]*)"', dom).group(1)


def test_study_report_renders_with_summary_then_key_results_first(tmp_path):
    path = tmp_path / "render.toml"
    path.write_text(STUDY)
    run_study(replace(load_study(path), output=str(tmp_path / "out")), progress=None)
    report = tmp_path / "out" / "render" / "report.html"
    dom = rendered(report, tmp_path)
    assert probed(dom, "first") == "SECTION.summary", "the plain-language summary must follow the title"
    assert probed(dom, "second") == "SECTION.key-results", "the key-results box must follow the summary"
    assert probed(dom, "box-notes") == "0", "no warning inside the key-results box"
    assert probed(dom, "first-row").startswith("Pf ("), "a study with a limit state: Pf first"
    images = re.search(r'data-images="([^"]*)"', dom).group(1).split(",")
    assert images and all(int(w) > 200 and int(h) > 100 for w, h in (s.split("x") for s in images)), images
    assert re.search(r'data-headless-tables="0"', dom), "every table has a header row"
    text = report.read_text()
    assert "Pf (monte_carlo)" in text and "epistemic share of Var(y)" in text
    assert not re.search(r"LogNormal\(mu=|Uniform\(lower=", text), "inputs must be shown in their own units"
    shot = tmp_path / "shot.png"
    chromium("--window-size=1200,2400", f"--screenshot={shot}", report.as_uri(), tmp_path=tmp_path)
    assert shot.stat().st_size > 20_000


@pytest.mark.slow
def test_main_job_report_leads_with_the_summary_and_pf(tmp_path):
    """The README's main job (atoms -> strut), --quick: summary first, Pf the first number, no warning in the box."""
    pytest.importorskip("ase", reason='the main job needs ASE: pip install "uqbridge[atoms]"')
    from pathlib import Path

    study = Path(__file__).resolve().parents[1] / "studies" / "reliability_atoms_to_strut.toml"
    run_study(replace(load_study(study, quick=True), output=str(tmp_path / "out")), progress=None)
    folder = tmp_path / "out" / "reliability_atoms_to_strut"
    dom = rendered(folder / "report.html", tmp_path)
    assert probed(dom, "first") == "SECTION.summary"
    assert probed(dom, "second") == "SECTION.key-results"
    assert probed(dom, "box-notes") == "0"
    assert probed(dom, "first-row").startswith("Pf (")
    summary = json.loads((folder / "summary.json").read_text())
    assert next(iter(summary)) == "summary" and "Pf = " in summary["summary"].split(".")[0] + summary["summary"]
    # the sensitivity step analyses what its label names, and its headline indices are checked
    assert set(summary["results"]["sensitivity"]["top"]) <= {
        f"{o} | top inputs (total index, sobol)" for o in ("margin", "E")} | {
        f"{o} | epistemic share (law of total variance)" for o in ("margin", "E")}
