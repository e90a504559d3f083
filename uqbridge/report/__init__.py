"""Self-contained HTML reports of uqbridge results (figures embedded, no network needed to read them).

:class:`HtmlReport` is the generic builder; each analysis has its report module (``sensitivity`` …).
"""

from .html import HtmlReport, figure_to_data_uri
from .sensitivity import sensitivity_report

__all__ = ["HtmlReport", "figure_to_data_uri", "sensitivity_report"]
