"""The documentation site builds with warnings as errors, and ``python -m uqbridge`` is the CLI."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_docs_build_strict(tmp_path):
    pytest.importorskip("mkdocstrings", reason="docs extra not installed: pip install -e '.[docs]'")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", os.fspath(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "site" / "api" / "reliability" / "index.html").exists()
    # functions that share their name with their module, and the plot functions with an image each (#30)
    site = tmp_path / "site" / "api"
    reliability = (site / "reliability" / "index.html").read_text()
    for name in ("form", "sorm", "active_learning"):
        assert f'id="uqbridge.reliability.{name}.{name}"' in reliability, name
    assert 'id="uqbridge.sensitivity.compare.compare"' in (site / "sensitivity" / "index.html").read_text()
    calibration = (site / "calibration" / "index.html").read_text()
    assert 'id="uqbridge.calibration.predict.predict"' in calibration
    assert 'id="uqbridge.calibration.pushforward.pushforward"' in calibration
    assert 'id="uqbridge.pce.basis.hyperbolic_indices"' in (site / "pce" / "index.html").read_text()
    plots = (site / "plots" / "index.html").read_text()
    from uqbridge.plots import calibration, propagation, sensitivity
    from uqbridge.plots import reliability as rel

    for module in (propagation, sensitivity, rel, calibration):
        for name in module.__all__:
            assert f'id="{module.__name__}.{name}"' in plots, name
            assert f'images/plots/{name}.png' in plots and (tmp_path / "site" / "images" / "plots" / f"{name}.png").exists()


def test_python_dash_m_uqbridge():
    proc = subprocess.run([sys.executable, "-m", "uqbridge", "models"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "ishigami" in proc.stdout


def test_validation_table_fits_at_1280_px(tmp_path):
    """Issue #30: the validation page's error columns were off-screen at 1 280 px (Chromium, headless)."""
    import re
    import shutil

    pytest.importorskip("mkdocstrings", reason="docs extra not installed: pip install -e '.[docs]'")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("headless Chromium is not installed")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "--site-dir", os.fspath(site)], cwd=ROOT, env=env,
                   check=True, timeout=600, capture_output=True)
    page = site / "validation" / "index.html"
    probe = ("<script>window.addEventListener('load', () => { const t = document.querySelector('article table');"
             " document.body.setAttribute('data-fits', t.scrollWidth <= t.clientWidth + 1 &&"
             " t.getBoundingClientRect().right <= window.innerWidth); });</script></body>")
    page.write_text(page.read_text().replace("</body>", probe))
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,900",
                          "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=180, check=True).stdout
    assert re.search(r'data-fits="true"', dom), "the validation table is wider than a 1280 px window"


def test_every_study_has_a_gallery_page_in_the_nav():
    """docs/gen_gallery.py writes one page per study in studies/ (TOML files and Python scripts; a script with a
    TOML twin gets ``<name>_py``), with its figures, listed in mkdocs.yml's nav."""
    nav = (ROOT / "mkdocs.yml").read_text()
    studies = sorted((ROOT / "studies").glob("*.toml")) + sorted((ROOT / "studies").glob("*.py"))
    assert studies
    for study in studies:
        twin = study.suffix == ".py" and study.with_suffix(".toml").exists()
        name = f"{study.stem}_py" if twin else study.stem
        page = ROOT / "docs" / "examples" / f"{name}.md"
        assert page.exists(), f"no gallery page for studies/{study.name}: run python docs/gen_gallery.py --only {name}"
        assert f"examples/{name}.md" in nav, f"docs/examples/{name}.md is not in mkdocs.yml's nav"
        text = page.read_text()
        assert f"studies/{study.name}" in text and ("## Headline" in text or "## What it does" in text)
        for image in re.findall(r"\]\((img/[^)]+\.png)\)", text):
            path = ROOT / "docs" / "examples" / image
            assert path.exists() and path.stat().st_size <= 100_000, image
