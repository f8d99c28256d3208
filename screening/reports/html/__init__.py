"""The HTML contact sheet: one self-contained file the marketing team opens and acts on.

Reasons lead with plain words; the measurements behind them are one click away. Nothing is
loaded from the network: the report travels by email.

  writer    HtmlWriter: spools a card per verdict, then writes the page in place (0600)
  cards     one card: status, reasons in plain words, location line, boxes (pure)
  summary   the top of the page: status tiles, filter chips, legend, files not screened (pure)
  previews  a photo's thumbnail, a clip's strip of frames with findings (never raise)
  page      the fixed head, style sheet and script
"""

from screening.reports.html.writer import HtmlWriter

__all__ = ["HtmlWriter"]
