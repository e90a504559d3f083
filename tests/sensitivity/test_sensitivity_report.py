"""The sensitivity report: HTML builder, one-call report with netCDF, and rendering in headless Chromium."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure

from uqbridge.plots import sensitivity as plots
from uqbridge.report import HtmlReport, sensitivity_report
from uqbridge.results import load
from uqbridge_models.benchmark_functions import ishigami

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.sources.append(attrs.get("src", ""))
        for key in ("src", "href"):
            if attrs.get(key, "").startswith(("http:", "https:", "//")):
                self.external.append(attrs[key])


def _png_size(uri: str) -> tuple[int, int]:
    data = base64.b64decode(uri.split(",", 1)[1])
    assert data[:8] == PNG_SIGNATURE
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_html_builder_escapes_and_embeds(tmp_path):
    fig = Figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    r = HtmlReport("A <b>title</b>")
    r.heading("Section").paragraph("x < y & <script>alert(1)</script>")
    r.table(pd.DataFrame({"value": [1.23456, np.nan], "name": ["a", "<i>"]}, index=["r1", "r2"]))
    r.table(xr.DataArray([0.5, 0.25], dims="input", coords={"input": ["x1", "x2"]}, name="S1"))
    r.figure(fig, caption="a line").provenance({"seed": 3, "inputs": "skipped"})
    text = r.write(tmp_path / "sub" / "r.html").read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "A &lt;b&gt;title&lt;/b&gt;" in text
    assert "1.23" in text and "–" in text and "&lt;i&gt;" in text
    assert "<td class=\"text\">x1</td><td>0.500</td>" in text
    parser = _Images()
    parser.feed(text)
    assert len(parser.sources) == 1 and _png_size(parser.sources[0])[0] > 100
    assert parser.external == []
    assert "skipped" not in text


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda r: r.heading("x", 1), ValueError, r"level must be 2, 3 or 4"),
        (lambda r: r.table([1, 2]), TypeError, r"table takes a pandas DataFrame or an xarray object, got list"),
        (lambda r: r.figure("fig"), TypeError, r"figure takes a matplotlib Figure, got str"),
    ],
)
def test_html_builder_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(HtmlReport("t"))


def test_plot_errors_name_the_choices():
    from uqbridge.sensitivity import sobol_indices

    ds = sobol_indices(ishigami(), 64, rng=0)
    with pytest.raises(KeyError, match=r"unknown output 'z'; outputs: \['y'\]"):
        plots.indices_bar(ds, "z")
    with pytest.raises(ValueError, match=r"needs the output of compare"):
        plots.method_comparison(ds)


@pytest.fixture(scope="module")
def report_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    ds = sensitivity_report("ishigami", n=512, methods=["sobol", "morris", "rbd_fast"], rng=4,
                            report=out / "ishigami.html", data=out / "ishigami.nc")
    return out / "ishigami.html", out / "ishigami.nc", ds


def test_sensitivity_report_contents(report_files):
    html_path, nc_path, ds = report_files
    text = html_path.read_text()
    parser = _Images()
    parser.feed(text)
    # per output: index bars, estimator comparison, Morris, convergence (the split is a number, not a figure)
    assert len(parser.sources) == 4
    assert all(s.startswith("data:image/png;base64,") and _png_size(s)[0] > 200 for s in parser.sources)
    assert parser.external == []
    for heading in ("Key results", "Inputs", "First-order and total indices", "Estimator comparison",
                    "Morris screening", "Convergence with sample size",
                    "Aleatory / epistemic split (law of total variance)", "Provenance"):
        assert f">{heading}</h" in text, heading
    # the key results come first, right under the title
    assert text.index("Key results") < text.index(">Inputs</h") < text.index("First-order and total indices")
    assert "top inputs (total index, sobol)" in text and "epistemic share (law of total variance)" in text
    # inputs in their own units, not as distribution parameters
    assert "Uniform(lower=-3.14" not in text and "epistemic" in text and ">median</th>" in text
    assert re.search(r"<dt>seed</dt><dd>4</dd>", text) and "<dt>design_sobol</dt>" in text
    assert "uqbridge_version" in text and "numpy_version" in text
    xr.testing.assert_identical(load(nc_path), ds)


def test_sensitivity_report_same_seed_same_numbers(report_files, tmp_path):
    _, _, ds = report_files
    again = sensitivity_report(ishigami(), n=512, methods=["sobol", "morris", "rbd_fast"], rng=4)
    xr.testing.assert_identical(again.drop_attrs(), ds.drop_attrs())
    assert list(tmp_path.iterdir()) == []  # nothing written without paths


_PROBE = """<script>
window.addEventListener("load", () => {
  document.body.setAttribute("data-images",
    Array.from(document.images).map(i => i.complete ? i.naturalWidth + "x" + i.naturalHeight : "0x0").join(","));
});
</script></body>"""


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="headless Chromium is not installed (Debian package 'chromium'); "
                           "the report is still checked as HTML by the other tests")
def test_report_renders_in_headless_chromium(report_files, tmp_path):
    """Open the report as a person would (no network) and check every figure is decoded with a size.

    A copy of the report gets a probe script that writes each image's decoded size into the DOM;
    the report itself has no JavaScript.
    """
    html_path, _, _ = report_files
    probe = tmp_path / "probe.html"
    probe.write_text(html_path.read_text().replace("</body>", _PROBE))
    common = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    sizes = re.search(r'data-images="([^"]*)"', dom)
    assert sizes, "the page did not finish loading in Chromium"
    decoded = [tuple(int(v) for v in s.split("x")) for s in sizes.group(1).split(",")]
    assert len(decoded) == 4 and all(w > 200 and h > 100 for w, h in decoded), decoded
    shot = tmp_path / "shot.png"
    subprocess.run([*common, "--window-size=1200,3000", f"--screenshot={shot}", html_path.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == PNG_SIGNATURE and shot.stat().st_size > 20_000


def test_report_warns_about_dependent_inputs(tmp_path):
    """With a Gaussian copula the report says which indices ignore the dependence."""
    from uqbridge import ForwardModel, Input, InputSet, Normal, Output

    inputs = InputSet([Input("a", Normal(0, 1)), Input("b", Normal(0, 1), "epistemic")], correlation={("a", "b"): 0.7})
    m = ForwardModel("dep", lambda a, b: {"y": a + b}, inputs, [Output("y", "m")])
    sensitivity_report(m, n=256, methods=["sobol"], rng=0, report=tmp_path / "dep.html")
    text = (tmp_path / "dep.html").read_text()
    assert 'class="note"' in text and "Shapley effects are the indices that account for the dependence" in text
    assert "<td class=\"text\">y</td><td class=\"text\">m</td>" in text  # the outputs table
