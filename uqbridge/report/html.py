"""A small builder of self-contained HTML reports: headings, text, tables, embedded PNG figures.

Everything (style, figures as base64 ``data:`` URIs) is inside the one file: it opens offline, can be
mailed to a colleague, and needs no JavaScript. Used by the sensitivity, reliability and calibration
reports.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["HtmlReport", "figure_to_data_uri"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 60em;
       color: #222; line-height: 1.45; padding: 0 1em; }
h1 { border-bottom: 2px solid #4C72B0; padding-bottom: .2em; }
h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .8em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f0f3f8; }
td.text, th.text { text-align: left; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: .85em; color: #555; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: .4em .8em; }
section.key-results { background: #eef3fb; border: 2px solid #4C72B0; border-radius: 6px; padding: .6em 1em;
                      margin: 1em 0 1.5em; }
section.key-results h2 { margin-top: .2em; border: none; }
section.key-results table { background: #fff; }
section.summary { font-size: 1.08em; background: #f6f8fb; border-left: 5px solid #4C72B0; padding: .5em 1em;
                  margin: 1em 0; }
section.warnings { font-size: .9em; }
section.warnings li { margin: .15em 0; }
dl.provenance { display: grid; grid-template-columns: max-content auto; gap: .1em 1em; font-size: .85em; }
dl.provenance dt { font-weight: 600; }
dl.provenance dd { margin: 0; word-break: break-all; }
"""


def figure_to_data_uri(fig: Any, *, dpi: int = 110) -> str:
    """PNG ``data:`` URI of a matplotlib figure (no file, no network).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(); _ = fig.add_subplot().plot([0, 1])
    >>> figure_to_data_uri(fig).startswith("data:image/png;base64,")
    True
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _format(value: Any, digits: int) -> str:
    """Significant digits kept visible (an R-hat of 1.004 reads "1.00", never "1"); whole numbers as such.

    Examples
    --------
    >>> _format(1.0041, 3), _format(250.0, 3), _format(1.6e-4, 3), _format(float("nan"), 3)
    ('1.00', '250', '0.000160', '–')
    """
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return "–"
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:#.{digits}g}".rstrip(".")
    return str(value)


class HtmlReport:
    """Collect sections and write one self-contained HTML file.

    Parameters
    ----------
    title : str
        Shown as the page title and top heading.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> r = HtmlReport("Demo")
    >>> r.heading("Numbers").paragraph("Two rows:").table(pd.DataFrame({"a": [1.0, 2.5]}))
    HtmlReport('Demo', 3 blocks)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.html"
    >>> r.write(path).name
    'r.html'
    >>> "<table" in path.read_text()
    True
    """

    def __init__(self, title: str) -> None:
        if not isinstance(title, str) or not title:
            raise ValueError(f"title must be a non-empty string, got {title!r}")
        self.title = title
        self._blocks: list[str] = []
        self._key: str = ""
        self._summary: str = ""

    def __repr__(self) -> str:
        return f"HtmlReport({self.title!r}, {len(self._blocks)} blocks)"

    # ---- content ---------------------------------------------------------------------------------
    def heading(self, text: str, level: int = 2) -> HtmlReport:
        """Add a heading ``<h2>`` (level 2 to 4)."""
        if level not in (2, 3, 4):
            raise ValueError(f"level must be 2, 3 or 4 (level 1 is the title), got {level!r}")
        anchor = "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
        self._blocks.append(f'<h{level} id="{html.escape(anchor)}">{html.escape(text)}</h{level}>')
        return self

    def summary(self, text: str) -> HtmlReport:
        """Set the plain-language summary: rendered first, right under the title (before the key results).

        Examples
        --------
        >>> r = HtmlReport("Demo").key_results(pd.DataFrame({"value": ["1"]}, index=["x"])).summary("In short: 1.")
        >>> html_text = r.render(); html_text.index('<section class="summary"') < html_text.index('<section class="key-results"')
        True
        """
        self._summary = f'<section class="summary" id="summary"><p>{html.escape(text)}</p></section>'
        return self

    def key_results(self, rows: pd.DataFrame, *, caption: str = "", notes: Iterable[str] = (),
                    warnings: Iterable[str] = ()) -> HtmlReport:
        """Set the key-results box: rendered right under the title (and the summary, if any).

        ``rows`` is a table of headline numbers (e.g. Pf with its interval per method, the epistemic
        share, top indices); ``notes`` are short remarks on how to read it (inside the box);
        ``warnings`` are listed under the box, never inside it (one line per kind of warning).

        Examples
        --------
        >>> r = HtmlReport("Demo").heading("Details")
        >>> r = r.key_results(pd.DataFrame({"value": ["1.6e-4 [1.2e-4, 2.0e-4]"]}, index=["Pf (FORM)"]))
        >>> html_text = r.render(); html_text.index("key-results") < html_text.index("Details")
        True
        """
        inner = HtmlReport(self.title).table(rows, caption=caption)
        for note in notes:
            inner.paragraph(note, note=True)
        self._key = '<section class="key-results"><h2 id="key-results">Key results</h2>' + "".join(inner._blocks) + "</section>"
        items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        if items:
            self._key += ('<section class="warnings"><h3 id="warnings">Warnings</h3>'
                          f'<ul class="note">{items}</ul></section>')
        return self

    def paragraph(self, text: str, *, note: bool = False) -> HtmlReport:
        """Add a paragraph of plain text (escaped); ``note=True`` highlights it."""
        cls = ' class="note"' if note else ""
        self._blocks.append(f"<p{cls}>{html.escape(text)}</p>")
        return self

    def table(self, data: pd.DataFrame | xr.DataArray | xr.Dataset, *, caption: str = "", digits: int = 3,
              index: bool = True) -> HtmlReport:
        """Add a table from a DataFrame, or from an xarray object (via ``to_dataframe``)."""
        if isinstance(data, xr.DataArray):
            data = data.to_dataframe(name=data.name or "value")
        elif isinstance(data, xr.Dataset):
            data = data.to_dataframe()
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"table takes a pandas DataFrame or an xarray object, got {type(data).__name__}")
        frame = data if index else data.reset_index(drop=True)
        parts = ["<table>"]
        if caption:
            parts.append(f"<caption>{html.escape(caption)}</caption>")
        index_names = [n or "" for n in frame.index.names] if index else []
        header = "".join(f'<th class="text">{html.escape(str(n))}</th>' for n in index_names)
        header += "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
        parts.append(f"<thead><tr>{header}</tr></thead><tbody>")
        for key, row in frame.iterrows():
            keys = key if isinstance(key, tuple) else (key,)
            cells = "".join(f'<td class="text">{html.escape(str(k))}</td>' for k in keys) if index else ""
            for value in row.values:
                cls = "" if isinstance(value, (int, float, np.number)) else ' class="text"'
                cells += f"<td{cls}>{html.escape(_format(value, digits))}</td>"
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</tbody></table>")
        self._blocks.append("".join(parts))
        return self

    def figure(self, fig: Any, *, caption: str = "", alt: str = "") -> HtmlReport:
        """Embed a matplotlib figure as a base64 PNG with an optional caption."""
        if not hasattr(fig, "savefig"):
            raise TypeError(f"figure takes a matplotlib Figure, got {type(fig).__name__}")
        uri = figure_to_data_uri(fig)
        alt_text = html.escape(alt or caption or "figure")
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self._blocks.append(f'<figure><img src="{uri}" alt="{alt_text}">{cap}</figure>')
        return self

    def provenance(self, attrs: Mapping[str, Any], *, skip: Iterable[str] = ("inputs",)) -> HtmlReport:
        """Add a definition list of provenance attributes (versions, model, seed, design …)."""
        skip = set(skip)
        rows = "".join(
            f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>" for k, v in attrs.items() if k not in skip
        )
        self._blocks.append(f'<dl class="provenance">{rows}</dl>')
        return self

    def raw_html(self, fragment: str) -> HtmlReport:
        """Add a trusted HTML fragment as is (e.g. a list built by a report module)."""
        self._blocks.append(fragment)
        return self

    # ---- output ----------------------------------------------------------------------------------
    def render(self) -> str:
        """The complete HTML document as a string."""
        stamp = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        body = "\n".join(b for b in (self._summary, self._key, *self._blocks) if b)
        return (
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(self.title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(self.title)}</h1>\n{body}\n"
            f'<footer><p style="font-size:.8em;color:#777">Generated by uqbridge, {stamp}</p></footer>\n'
            "</body>\n</html>\n"
        )

    def write(self, path: str | os.PathLike[str]) -> os.PathLike[str]:
        """Write the document to ``path`` (parent folders created) and return the path."""
        import pathlib

        target = pathlib.Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.render(), encoding="utf-8")
        return target
