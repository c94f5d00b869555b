"""The SVG chart helpers moved to ``rapport.core.charts`` so that every app may draw with them;
this name stays for the OLAP page's imports."""

from rapport.core.charts import svg_chart

__all__ = ["svg_chart"]
