"""The quote as a PDF (fpdf2, pure Python). The printable HTML page is the template
``sales/quote_print.html``; both show the same numbers from the stored lines.

fpdf2's built-in Helvetica covers Latin-1 only; other characters are replaced rather than
failing the rendering (the HTML page shows them exactly).
"""

from __future__ import annotations

from decimal import Decimal

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from rapport.sales.models_quotes import Quote


def _text(value: object) -> str:
    return str(value).encode("latin-1", "replace").decode("latin-1")


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def quote_pdf(quote: Quote) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_text(f"Quote {quote}"))
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.cell(0, 10, _text(f"Quote {quote.number}  (revision {quote.revision})"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=10)
    for label, value in (("Customer", quote.account.name), ("Date", quote.quote_date.isoformat()),
                         ("Valid until", quote.valid_until.isoformat()), ("Currency", quote.currency)):
        pdf.cell(35, 6, _text(label))
        pdf.cell(0, 6, _text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    widths = (80, 20, 30, 25, 35)
    pdf.set_font("Helvetica", style="B", size=10)
    for width, head in zip(widths, ("Item", "Qty", "Unit price", "Discount", "Net"), strict=True):
        pdf.cell(width, 7, head, border="B", align="L" if head == "Item" else "R")
    pdf.ln()
    pdf.set_font("Helvetica", size=10)
    for line in quote.lines.all():
        cells = (line.description[:48], f"{line.quantity.normalize():f}", _money(line.unit_price),
                 _money(line.discount_amount), _money(line.net))
        for index, (width, value) in enumerate(zip(widths, cells, strict=True)):
            pdf.cell(width, 6, _text(value), align="L" if index == 0 else "R")
        pdf.ln()
    pdf.ln(2)
    for label, value in (("Subtotal", quote.subtotal), ("Discounts", quote.discount_total), ("Tax", quote.tax_total),
                         ("Total", quote.total)):
        pdf.set_font("Helvetica", style="B" if label == "Total" else "", size=10)
        pdf.cell(155, 6, label, align="R")
        pdf.cell(35, 6, _text(f"{quote.currency} {_money(value)}"), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if quote.notes:
        pdf.ln(4)
        pdf.set_font("Helvetica", size=9)
        pdf.multi_cell(0, 5, _text(quote.notes))
    return bytes(pdf.output())
