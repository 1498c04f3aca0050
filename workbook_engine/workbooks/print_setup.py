"""How a sheet prints: one declaration, written by each of the engine's three writers.

Every sheet the engine writes prints on A4, one page wide (as many pages tall as it needs),
landscape when it is wide, its header rows repeated on every page, within its print area,
(a grid wider than any template, such as a Fineract file's report with Fineract's columns:
as many pages wide as keep it no smaller than the widest template, :func:`pages_wide`, its
row key column repeated on every page),
with a page header (what the workbook is, which sheet, its date) and a footer with the page
numbers. :class:`PrintSetup` says that once; it is written as XML by the writers that write
the package's XML themselves (the collection sheet, the preview report's added sheets), or
through xlsxwriter (import templates and reports) or openpyxl (the report's fallback).

Row heights for wrapped text: neither Excel nor LibreOffice grows a row whose height is
stored, and Excel does not grow one on opening, so text that wraps gets a height computed
from its length (:func:`wrapped_height`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any

from workbook_engine.workbooks.declaration import column_letters

A4 = 9  # the paper size code of A4 in SpreadsheetML
LINE_HEIGHT = 15.0  # points per line of 11-point text
CHARS_PER_WIDTH = 1.1  # characters of running text per unit of column width (Calibri 11)


WIDEST_PAGE = 420.0
"""The column width (units) printed on one landscape page at the most: a little more than
the widest of the engine's own templates (the client import for entities with its
additional details, about 400; live loans, 316), which print one page wide as they always
have; a Fineract file's report is wider (loans: 519, printed at 28 %, unreadable) and
prints on two pages or more, each no smaller than those templates."""


def pages_wide(widths: Sequence[float], repeated: int = 0) -> int:
    """How many pages wide a sheet of columns ``widths`` prints, its first ``repeated``
    columns on every page: one when it fits :data:`WIDEST_PAGE`, else as few as keep each
    page within it."""
    total = sum(widths)
    if total <= WIDEST_PAGE:
        return 1
    kept = sum(widths[:repeated])
    room = max(WIDEST_PAGE - kept, WIDEST_PAGE / 2)
    return math.ceil((total - kept) / room)


def header_text(text: str, limit: int = 60) -> str:
    """Text for a page header or footer ('&' starts a control code there)."""
    return text.replace("&", "&&")[:limit]


def wrapped_height(text: str, width: float, minimum: float = LINE_HEIGHT) -> float:
    """The row height (points) that shows ``text`` wrapped in a column ``width`` wide."""
    per_line = max(1, int(width * CHARS_PER_WIDTH))
    lines = sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))
    return max(minimum, lines * LINE_HEIGHT + 2)


@dataclass(frozen=True)
class PrintSetup:
    """How one sheet prints.

    ``title`` is the page header's left part (the workbook: center, office, report),
    ``sheet`` its centre, ``date`` its right part (e.g. the meeting date); ``repeat`` the
    1-based rows printed on top of every page (first, last), None for none; ``area`` the
    printed range ("A1:H40"), None for the used range; ``footer`` the footer's left part
    (a line to sign, say); the right part is "Page N of M".
    """

    title: str
    sheet: str
    date: str = ""
    landscape: bool = True
    repeat: tuple[int, int] | None = None
    area: str | None = None
    footer: str = ""
    margins: tuple[float, float, float, float] = (0.4, 0.4, 0.6, 0.6)  # left right top bottom
    pages_wide: int = 1
    repeat_columns: tuple[int, int] | None = None  # 1-based, printed on every page

    @property
    def header(self) -> str:
        return (f"&L{header_text(self.title)}&C{header_text(self.sheet, 40)}"
                f"&R{header_text(self.date, 30)}")

    @property
    def footer_text(self) -> str:
        left = f"&L{header_text(self.footer, 80)}" if self.footer else ""
        return f"{left}&RPage &P of &N"

    # -- SpreadsheetML, for writers of the package's XML

    SHEET_PR = '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
    """The ``<sheetPr>`` that makes ``fitToWidth``/``fitToHeight`` apply (first child of
    ``<worksheet>``)."""

    def xml(self, escape: Any) -> str:
        """``<pageMargins>``, ``<pageSetup>`` and ``<headerFooter>``, in the order
        CT_Worksheet wants them (after the data validations, before any drawing);
        ``escape`` escapes element text."""
        left, right, top, bottom = self.margins
        orientation = "landscape" if self.landscape else "portrait"
        return (f'<pageMargins left="{left}" right="{right}" top="{top}" bottom="{bottom}" '
                'header="0.3" footer="0.3"/>'
                f'<pageSetup paperSize="{A4}" fitToWidth="{self.pages_wide}" fitToHeight="0" '
                f'orientation="{orientation}"/>'
                f"<headerFooter><oddHeader>{escape(self.header)}</oddHeader>"
                f"<oddFooter>{escape(self.footer_text)}</oddFooter></headerFooter>")

    def print_titles(self, sheet_name: str) -> str | None:
        """The formula of the ``_xlnm.Print_Titles`` defined name, if rows repeat."""
        quoted = "'" + sheet_name.replace("'", "''") + "'"
        titles = []
        if self.repeat_columns is not None:
            first, last = (column_letters(n) for n in self.repeat_columns)
            titles.append(f"{quoted}!${first}:${last}")
        if self.repeat is not None:
            titles.append(f"{quoted}!${self.repeat[0]}:${self.repeat[1]}")
        return ",".join(titles) or None

    def print_area(self, sheet_name: str) -> str | None:
        """The formula of the ``_xlnm.Print_Area`` defined name, if an area is set."""
        if self.area is None:
            return None
        quoted = "'" + sheet_name.replace("'", "''") + "'"
        first, _, last = self.area.partition(":")
        return f"{quoted}!{_absolute(first)}:{_absolute(last or first)}"

    # -- the libraries' writers

    def apply_xlsxwriter(self, ws: Any) -> None:
        """Set up an xlsxwriter worksheet."""
        ws.set_paper(A4)
        if self.landscape:
            ws.set_landscape()
        else:
            ws.set_portrait()
        ws.fit_to_pages(self.pages_wide, 0)
        left, right, top, bottom = self.margins
        ws.set_margins(left=left, right=right, top=top, bottom=bottom)
        ws.set_header(self.header)
        ws.set_footer(self.footer_text)
        if self.repeat is not None:
            ws.repeat_rows(self.repeat[0] - 1, self.repeat[1] - 1)
        if self.repeat_columns is not None:
            ws.repeat_columns(self.repeat_columns[0] - 1, self.repeat_columns[1] - 1)
        if self.area is not None:
            ws.print_area(self.area)

    def apply_openpyxl(self, ws: Any) -> None:
        """Set up an openpyxl worksheet."""
        ws.page_setup.paperSize = A4
        ws.page_setup.orientation = "landscape" if self.landscape else "portrait"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = self.pages_wide, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        left, right, top, bottom = self.margins
        ws.page_margins.left, ws.page_margins.right = left, right
        ws.page_margins.top, ws.page_margins.bottom = top, bottom
        ws.oddHeader.left.text, ws.oddHeader.center.text, ws.oddHeader.right.text = (
            header_text(self.title), header_text(self.sheet, 40), header_text(self.date, 30))
        if self.footer:
            ws.oddFooter.left.text = header_text(self.footer, 80)
        ws.oddFooter.right.text = "Page &P of &N"
        if self.repeat is not None:
            ws.print_title_rows = f"{self.repeat[0]}:{self.repeat[1]}"
        if self.repeat_columns is not None:
            first, last = (column_letters(n) for n in self.repeat_columns)
            ws.print_title_cols = f"{first}:{last}"
        if self.area is not None:
            ws.print_area = self.area


def _absolute(ref: str) -> str:
    """"B3" -> "$B$3"."""
    letters = "".join(ch for ch in ref if ch.isalpha())
    return f"${letters}${ref[len(letters):]}"

