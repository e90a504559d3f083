"""Make the examples gallery: one page per study in ``studies/`` (TOML files and Python scripts), with its figures.

Run from the repository root::

    python docs/gen_gallery.py                 # every study, one at a time (about 1-3 min each)
    python docs/gen_gallery.py --only reliability_forming --keep /tmp/gallery

Each study runs as a user would run it, ``uqbridge run studies/<name>.toml --quick --out <tmp>`` (a Python
study: ``python studies/<name>.py --quick --out <tmp>``); the page
(``docs/examples/<name>.md``) gives what the study asks, its model, its steps, the headline sentence and
key numbers from ``summary.json``, and the first figures of its report, copied (downscaled, small PNGs)
into ``docs/examples/img/``. ``--keep DIR`` keeps the run folders and reuses a run already there.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "docs" / "examples"
IMAGES = PAGES / "img"
MAX_FIGURES = 3
MAX_WIDTH = 820  # px; the content column of the site is about this wide
MAX_BYTES = 80_000

_FIGURE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"[^>]*>.*?<figcaption>(.*?)</figcaption>', re.S)


def studies() -> list[Path]:
    """The study files the gallery shows, in name order: TOML studies, then Python ones."""
    return sorted((ROOT / "studies").glob("*.toml")) + sorted((ROOT / "studies").glob("*.py"))


def page_name(path: Path) -> str:
    """The page (and image) name of a study: its file stem; ``_py`` appended for a Python study that has a
    TOML twin of the same name."""
    if path.suffix == ".py" and path.with_suffix(".toml").exists():
        return f"{path.stem}_py"
    return path.stem


def _docstring(path: Path) -> str:
    """The module docstring of a Python study."""
    import ast

    return ast.get_docstring(ast.parse(path.read_text())) or path.stem


def run_python_study(path: Path, out: Path) -> Path:
    """``python <path> --quick --out <out>/<page name>``; the study's results folder."""
    folder = out / page_name(path)
    if (folder / "report.html").exists() or (folder / "summary.md").exists():
        return folder
    env = {**os.environ, "MPLBACKEND": "Agg"}
    cmd = [sys.executable, os.fspath(path.relative_to(ROOT)), "--quick", "--out", os.fspath(folder)]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    return folder


def python_page(path: Path, folder: Path, chosen: list[tuple[str, str]]) -> str:
    """The markdown page of a Python study: its docstring, the head of what it wrote, its figures."""
    doc = _docstring(path)
    title, _, body = doc.partition("\n")
    rel = path.relative_to(ROOT).as_posix()
    body = "\n".join(line for line in body.strip().splitlines() if not line.strip().startswith("Run:"))
    out = [f"# {title.strip().rstrip('.')}", "", f"*Study script:* `{rel}` (the Python API)", "",
           "## What it does", "", body.strip(), ""]
    summary_md, summary_json = folder / "summary.md", folder / "summary.json"
    said = json.loads(summary_json.read_text()) if summary_json.exists() else {}
    lines = said.get("summary") or said.get("headline")
    if lines:
        lines = [lines] if isinstance(lines, str) else list(lines)
        out += ["## Headline (quick run)", "", *[f"> {line}\n>" for line in lines], ""]
    elif summary_md.exists():
        head = summary_md.read_text().strip().splitlines()[:14]
        out += ["## What it wrote (quick run)", "", *[f"> {line}" if line else ">" for line in head], ""]
    out += ["Numbers from the reduced `--quick` budgets: they show what the study reports, not its full-budget "
            "answer.", ""]
    return "\n".join(out + _figures_and_command(chosen, f"python {rel}"))


def title_of(path: Path) -> str:
    """A study's title: the TOML ``[study] title``, or a Python study's first docstring line."""
    if path.suffix == ".py":
        return _docstring(path).split("\n", 1)[0].strip().rstrip(".")
    spec = tomllib.loads(path.read_text())["study"]
    return spec.get("title", spec["name"])


def run_study(path: Path, out: Path) -> Path:
    """``uqbridge run <path> --quick --out <out>``; the study's results folder."""
    name = tomllib.loads(path.read_text())["study"]["name"]
    folder = out / name
    if (folder / "report.html").exists() and json.loads((folder / "summary.json").read_text()).get("complete"):
        return folder
    env = {**os.environ, "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-m", "uqbridge", "run", os.fspath(path.relative_to(ROOT)), "--quick", "--out", os.fspath(out)]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    return folder


def figures(report: Path) -> list[tuple[bytes, str]]:
    """The report's figures (PNG bytes, caption), first occurrence of each, in report order."""
    seen: set[str] = set()
    found = []
    for data, caption in _FIGURE.findall(report.read_text()):
        digest = hashlib.sha1(data.encode()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            found.append((base64.b64decode(data), html.unescape(re.sub(r"<[^>]+>", "", caption)).strip()))
    return found


def pick(found: list[tuple[bytes, str]]) -> list[tuple[bytes, str]]:
    """At most :data:`MAX_FIGURES` figures, one per kind of caption (the text before the first colon)."""
    chosen, kinds = [], set()
    for png, caption in found:
        kind = re.sub(r"\([^)]*\)|^[^:]*:", "", caption).strip()[:40]  # "Convergence of Pf (x)" is one kind
        if kind not in kinds:
            kinds.add(kind)
            chosen.append((png, caption))
        if len(chosen) == MAX_FIGURES:
            break
    return chosen


def small_png(png: bytes) -> bytes:
    """The figure at most :data:`MAX_WIDTH` px wide, on a 256-colour palette: a PNG of a few tens of kB."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    width = MAX_WIDTH
    while True:
        scaled = image
        if image.width > width:
            scaled = image.resize((width, round(image.height * width / image.width)), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        scaled.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= MAX_BYTES or width < 400:
            return buffer.getvalue()
        width = int(width * 0.85)


def _model(spec: dict[str, Any]) -> str:
    model = spec.get("model", {})
    if "name" in model:
        return f"registered model `{model['name']}`"
    return f"Python object `{model.get('path', '?')}`"


def _key_numbers(summary: dict[str, Any], limit: int = 8) -> list[str]:
    """A few lines of the analyses' key results, as the report's table gives them."""
    lines = []
    for name, result in summary.get("results", {}).items():
        label = result.get("label", name)
        if isinstance(result.get("pf"), (int, float)):
            what = f"Pf ({result['method'].replace('_', ' ')})" if result.get("method") else f"{label}: Pf"
            if name.endswith("_prior"):  # the study's before-calibration run of the same step
                what += ", before calibration"
            low, high = result.get("pf_low", result.get("pf_credible_low")), result.get("pf_high", result.get("pf_credible_high"))
            interval = f" [{low:.3g}, {high:.3g}]" if isinstance(low, float) and isinstance(high, float) else ""
            checks = "" if result.get("reliable", True) else " (did not pass its checks)"
            lines.append(f"{what} = {result['pf']:.3g}{interval}{checks}")
        for key, value in (result.get("top") or result.get("headline") or {}).items():
            if isinstance(value, str):
                lines.append(f"{key}: {value}")
        for method, row in (result.get("methods") or {}).items():
            if isinstance(row, dict) and isinstance(row.get("pf"), (int, float)):
                lines.append(f"{label}, {method}: Pf = {row['pf']:.3g}")
    return lines[:limit]


def page(path: Path, summary: dict[str, Any], chosen: list[tuple[str, str]]) -> str:
    """The markdown page of one study."""
    spec = tomllib.loads(path.read_text())
    study = spec["study"]
    rel = path.relative_to(ROOT).as_posix()
    out = [f"# {study.get('title', study['name'])}", ""]
    out += [f"*Study file:* `{rel}` · *model:* {_model(spec)} · *seed:* {study.get('seed', 'drawn')}", ""]
    out += ["## What it asks", "", study.get("description", "").strip(), ""]
    out += ["## Steps", ""]
    for i, analysis in enumerate(spec.get("analyses", []), 1):
        out.append(f"{i}. **{analysis['kind']}** — {analysis.get('label', '')}")
    out += ["", "## Headline (quick run)", "", f"> {summary.get('summary', '').strip()}", ""]
    numbers = _key_numbers(summary)
    if numbers:
        out += [f"- {line}" for line in numbers] + [""]
    runs = sum(v for v in summary.get("model_runs", {}).values() if isinstance(v, int))
    out += [f"These numbers come from the reduced `--quick` budgets ({runs} model runs, "
            f"{summary.get('wall_time_s', 0):.0f} s wall time): they show what the study reports, not its "
            "full-budget answer.", ""]
    return "\n".join(out + _figures_and_command(chosen, f"uqbridge run {rel}"))


def _figures_and_command(chosen: list[tuple[str, str]], command: str) -> list[str]:
    """The end of a page: its figures with their captions, and how to run the study."""
    out = []
    if chosen:
        out += ["## Figures", ""]
        for file, caption in chosen:
            out += [f"![{caption}](img/{file})", "", f"*{caption}*", ""]
    return out + ["## Run it", "", "```bash", f"{command} --quick   # reduced budget, as above",
                  f"{command}           # full budget", "```", ""]


def index(entries: list[tuple[str, str, str]]) -> str:
    """The gallery's front page: one line per study."""
    out = ["# Examples gallery", "",
           "One page per study file in `studies/`: what it asks, its chain or model, its steps, the headline of a "
           "`--quick` run and its first figures. The pages are written by `docs/gen_gallery.py`, which runs each "
           "study as `uqbridge run studies/<name>.toml --quick` (Python studies: `python studies/<name>.py "
           "--quick`).", ""]
    out += [f"- [{title}]({name}.md) — `studies/{file}`" for name, title, file in entries]
    return "\n".join(out) + "\n"


def _nav_label(title: str) -> str:
    """A short label from a study title: the part after "...: ", up to its first comma, quoted for YAML."""
    short = title.split(": ", 1)[-1].split(",")[0].strip()
    return json.dumps(short[:1].upper() + short[1:])


def update_nav(entries: list[tuple[str, str, str]]) -> None:
    """Write the gallery's section of the ``nav`` in mkdocs.yml (after the tutorials), one line per page."""
    config = ROOT / "mkdocs.yml"
    lines = config.read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("  - Examples gallery:")), None)
    if start is None:
        start = next(i for i, line in enumerate(lines) if line.startswith("  - Validation of the model library:"))
        end = start
    else:
        end = start + 1
        while end < len(lines) and lines[end].startswith("      "):
            end += 1
    block = ["  - Examples gallery:", "      - Overview: examples/index.md"]
    block += [f"      - {_nav_label(title)}: examples/{name}.md" for name, title, _ in entries]
    config.write_text("\n".join(lines[:start] + block + lines[end:]) + "\n")


def _images(name: str, report: Path) -> list[tuple[str, str]]:
    """Write the report's chosen figures as small PNGs named after the page; (file, caption) each."""
    chosen = []
    for old in IMAGES.glob(f"{name}-*.png"):
        old.unlink()
    if report.exists():
        for k, (png, caption) in enumerate(pick(figures(report)), 1):
            file = f"{name}-{k}.png"
            (IMAGES / file).write_bytes(small_png(png))
            chosen.append((file, caption))
    return chosen


def build(path: Path, out: Path) -> tuple[str, str, str]:
    """Run one study and write its page and images; (name, title, page file)."""
    if path.suffix == ".py":
        name = page_name(path)
        folder = run_python_study(path, out)
        (PAGES / f"{name}.md").write_text(python_page(path, folder, _images(name, folder / "report.html")))
        return name, title_of(path), f"{name}.md"
    folder = run_study(path, out)
    summary = json.loads((folder / "summary.json").read_text())
    spec = tomllib.loads(path.read_text())["study"]
    name = spec["name"]
    (PAGES / f"{name}.md").write_text(page(path, summary, _images(name, folder / "report.html")))
    return name, spec.get("title", name), f"{name}.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", help="study name (repeatable); default: every study")
    parser.add_argument("--keep", help="keep the run folders here (and reuse runs already there)")
    args = parser.parse_args(argv)
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep) if args.keep else Path(tmp)
        for path in studies():
            if args.only and page_name(path) not in args.only:
                continue
            print("wrote", build(path, out)[2], flush=True)
    entries = [(page_name(p), title_of(p), p.name) for p in studies() if (PAGES / f"{page_name(p)}.md").exists()]
    (PAGES / "index.md").write_text(index(entries))
    update_nav(entries)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
