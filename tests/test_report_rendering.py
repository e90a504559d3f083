"""Study reports as a person sees them: rendered by headless Chromium (no network), key results first.

Chromium is installed by `.ci/run` where the machine lacks it (Debian package ``chromium``); without
it these tests are skipped and the reports are still checked as HTML by the study tests.
"""

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


def test_study_report_renders_with_key_results_first(tmp_path):
    path = tmp_path / "render.toml"
    path.write_text(STUDY)
    run_study(replace(load_study(path), output=str(tmp_path / "out")), progress=None)
    report = tmp_path / "out" / "render" / "report.html"
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text().replace("</body>", PROBE))
    dom = chromium("--virtual-time-budget=10000", "--dump-dom", probe.as_uri(), tmp_path=tmp_path).stdout
    first = re.search(r'data-first="([^"]*)"', dom)
    assert first and first.group(1) == "SECTION.key-results", "the key-results box must follow the title"
    images = re.search(r'data-images="([^"]*)"', dom).group(1).split(",")
    assert images and all(int(w) > 200 and int(h) > 100 for w, h in (s.split("x") for s in images)), images
    assert re.search(r'data-headless-tables="0"', dom), "every table has a header row"
    text = report.read_text()
    assert "Pf (monte_carlo)" in text and "epistemic share of Var(y)" in text
    assert not re.search(r"LogNormal\(mu=|Uniform\(lower=", text), "inputs must be shown in their own units"
    shot = tmp_path / "shot.png"
    chromium("--window-size=1200,2400", f"--screenshot={shot}", report.as_uri(), tmp_path=tmp_path)
    assert shot.stat().st_size > 20_000
