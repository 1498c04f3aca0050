"""The preview report of a returned collection sheet: .xlsx and HTML, in ``outbox/``.

The .xlsx report is a copy of the submitted workbook itself (so it keeps the grid, the hidden
keys and the signed metadata sheet) with:

* the seed's **red** where attendance is not Present, a repayment is zero or partial,
  a mandatory deposit or the charges differ from what was due: red text on a salmon fill
  (:data:`MARK_FILL`), so that a cell the officer emptied shows too, on screen and on paper;
* **error cells filled red** with a comment saying what is wrong and how to fix it;
* every other cell the caller lists **plain** again: a report is returned as the next
  version of the sheet, so a cell marked in an earlier version's report and correct now
  loses its red text, its red fill (back to the cell's normal fill) and the engine's
  comment. Marked formats are recognised by their colours (LibreOffice renumbers formats
  but keeps colours), the engine's comments by their author or, as LibreOffice drops the
  author, by their "How to fix:" sentence;
* an **"Errors"** sheet (sheet, row, column, client, what is wrong, how to fix), a
  **"Summary"** sheet (cash collected, paid out, to hand over) and, when the posting was
  rehearsed, a **"Posting"** sheet: what approving will do to each account, its balance
  before -> after (:class:`PostingPreview`);
* the metadata sheet's rows signed again with a ``version`` field (the next version number),
  so a report whose version (or any other field) was edited is refused like any tampered
  sheet.

The copy is made by editing the package's XML (:mod:`reports.xlsx_patch`: fast, and every
part it does not need to change is kept byte for byte); a package those edits do not expect
is rewritten with openpyxl instead.

Because it keeps the metadata and the grid, the report is itself a valid returned sheet: the
loan officer corrects the red cells and drops it back, and it is processed as a new version of
the same sheet. The HTML page comes from ``templates/report.html.j2`` (autoescaped).

A file that could not be read gets a short HTML report only.
"""

from __future__ import annotations

import datetime as dt
import functools
from copy import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl  # noqa: F401 - loaded once, before report workers are forked
from jinja2 import Environment, FileSystemLoader, Template, select_autoescape

from workbook_engine.fileio import replaced_atomically, write_text_atomically
from workbook_engine.reports.xlsx_patch import (
    AUTHOR,
    Package,
    Styles,
    Unsupported,
    Workbook,
    column_letters,
    restyle_cells,
    set_comments,
    sheet_xml,
)
from workbook_engine.workbooks.metadata import SignedMetadata
from workbook_engine.workbooks.print_setup import PrintSetup, wrapped_height

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
RED = "FFC7CE"
RED_TEXT = "C00000"
MARK_FILL = "F8CBAD"  # a cell the seed shows red: its text red, and this fill, so that an
#                       emptied cell shows too (on screen and on paper)
HOW_TO_FIX = " How to fix: "  # every comment of the engine has it (see ``comment_text``)


def comment_text(message: str, how_to_fix: str) -> str:
    """The comment of an error cell: what is wrong, then how to fix it."""
    return f"{message}{HOW_TO_FIX}{how_to_fix}"


def _rgb(color: Any) -> str | None:
    """The RGB of an openpyxl colour (upper case, without its alpha byte), if it has one."""
    if color is None or color.type != "rgb" or not isinstance(color.rgb, str):
        return None
    return color.rgb.upper()[-6:]


def _is_ours(author: str, text: str) -> bool:
    """Whether a comment found in a returned report is one the engine wrote."""
    return author == AUTHOR or HOW_TO_FIX.strip() in text


@dataclass(frozen=True)
class PostingPreview:
    """What approval will post, as the rehearsal found: each account it moves, its balance
    (a loan: what it owes; a charge: what is left to pay) and status before and after.

    ``excluded_rows`` > 0: the sheet has row errors, and this is what approving with
    ``--exclude-invalid`` would post (the other rows stay due).
    """

    accounts: Sequence[Mapping[str, Any]]
    excluded_rows: int
    collected: Decimal
    paid_out: Decimal

    @property
    def title(self) -> str:
        if self.excluded_rows:
            return (f"What approving with --exclude-invalid will post ({self.excluded_rows} "
                    "row(s) with errors left out)")
        return "What approving will post"


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows (plain data, so both formats show the same)."""

    title: str
    file_name: str
    submission_id: int | None
    status: str
    version: int
    meeting_date: dt.date | None
    center: str | None
    loan_officer: str | None
    submitted_by: str | None
    received_at: dt.datetime
    errors: Sequence[Mapping[str, Any]]
    rows: Sequence[Mapping[str, Any]]  # name, kind, entity_id, cells: [{typed, due, red, error}]
    columns: Sequence[str]
    collected: Decimal
    paid_out: Decimal
    message: str
    duplicate_of: int | None = None
    corrected_copy: str | None = None  # the highlighted .xlsx to correct and send back
    posting: PostingPreview | None = None

    @property
    def cash_to_hand_over(self) -> Decimal:
        return self.collected - self.paid_out


@functools.cache
def _template() -> Template:
    """The report template, compiled once per process (compiling costs ~40 ms)."""
    environment = Environment(loader=FileSystemLoader(TEMPLATES),
                              autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                              lstrip_blocks=True, auto_reload=False)
    environment.filters["money"] = "{:,.2f}".format
    return environment.get_template("report.html.j2")


def prepare_templates() -> None:
    """Compile the report templates now (the report's and those it imports), once for this
    process and the processes it forks (the inbox watcher's child per file), rather than at
    the first report of each."""
    environment = _template().environment
    for name in environment.list_templates(extensions=["j2"]):
        environment.get_template(name)


def write_html_report(data: ReportData, target: Path) -> Path:
    """Render the HTML report."""
    html = _template().render(report=data)
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomically(target, html)


ERROR_HEADERS = ("Sheet", "Row", "Column", "Cell", "Client", "Code", "What is wrong",
                 "How to fix")
ERROR_WIDTHS = (14, 5, 16, 6, 20, 18, 45, 40)
WRAPPED = (6, 7)  # the columns of running text ("What is wrong", "How to fix")
SUMMARY_WIDTHS = (20, 16)
MONEY_FORMAT = 4  # the built-in "#,##0.00"


def _error_heights(rows: Sequence[Sequence[Any]]) -> list[float | None]:
    """Each row's height, so that the wrapped columns show all their text."""
    return [None, *(max(wrapped_height(str(row[c] or ""), ERROR_WIDTHS[c]) for c in WRAPPED)
                    for row in rows[1:])]


def _print_setups(data: ReportData) -> dict[str, PrintSetup]:
    """How the report's own sheets print: each a list one page wide, its header repeated."""
    date = (data.meeting_date or data.received_at.date()).isoformat()
    return {"Errors": PrintSetup(data.title, "Errors", date, repeat=(1, 1)),
            "Summary": PrintSetup(data.title, "Summary", date, landscape=False),
            "Posting": PrintSetup(data.title, "Posting", date, repeat=(1, 1))}


def _error_rows(data: ReportData) -> list[tuple[Any, ...]]:
    return [ERROR_HEADERS, *((e.get("sheet"), e.get("row"),
                              e.get("column_header") or e.get("column"), e.get("cell"),
                              e.get("client"), e.get("code"), e.get("message"),
                              e.get("how_to_fix")) for e in data.errors)]


def _summary_rows(data: ReportData) -> list[tuple[Any, ...]]:
    return [("Submission", data.submission_id), ("Status", data.status),
            ("Version", data.version), ("Errors", len(data.errors)),
            ("Cash collected", data.collected), ("Paid out", data.paid_out),
            ("Cash to hand over", data.cash_to_hand_over)]



POSTING_HEADERS = ("Client / group", "Account", "Product", "Before", "After", "Status")
POSTING_WIDTHS = (26, 14, 18, 14, 14, 22)
POSTING_FIGURES = (3, 4)  # "Before" and "After": headers aligned right, over their figures


def _posting_rows(data: ReportData) -> list[tuple[Any, ...]]:
    """The "Posting" sheet: each account the rehearsed posting moves, before -> after."""
    preview = data.posting
    if preview is None:  # a sheet error: nothing can be posted (a copy's earlier sheet goes)
        return [("Nothing can be posted until the errors of the whole sheet are corrected.",)]
    rows: list[tuple[Any, ...]] = [POSTING_HEADERS]
    for change in preview.accounts:
        status = change["status_before"] if change["status_before"] == \
            change["status_after"] else f"{change['status_before']} -> {change['status_after']}"
        rows.append((change["owner"], change["label"], change["what"],
                     Decimal(change["before"]), Decimal(change["after"]), status))
    return rows + [(), ("Collected", None, None, preview.collected),
                   ("Paid out", None, None, preview.paid_out), (),
                   (preview.title + ", as rehearsed on the books when the sheet was "
                    "processed.",)]


def write_xlsx_report(source: Path, target: Path, data: ReportData, *, sheet_name: str,
                      metadata_sheet: str, cells: Mapping[str, Mapping[str, Any]],
                      signed: SignedMetadata) -> Path:
    """A copy of the submitted workbook, highlighted, with Errors, Summary and Posting
    sheets.

    ``cells`` maps a cell address of the data sheet to ``{"red": bool, "error": text,
    "fill": colour}``: red text, an error (red fill and a comment), and the cell's normal
    fill ("RRGGBB", None for none), which a cell neither red nor in error gets back when an
    earlier version's report had marked it (cells not listed are left as they are);
    ``signed`` is the metadata the copy carries (the sheet's own, with the next version),
    written over the metadata sheet's rows.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    marked = {address.upper(): mark for address, mark in cells.items()}
    with replaced_atomically(target, suffix=".xlsx") as tmp:
        try:
            _patch_package(source, tmp, data, sheet_name, metadata_sheet, marked, signed)
        except Unsupported:  # a package the text edits do not expect: the slow, general way
            _rewrite_with_openpyxl(source, tmp, data, sheet_name, metadata_sheet, marked,
                                   signed)
    return target


def _patch_package(source: Path, target: Path, data: ReportData, sheet_name: str,
                   metadata_sheet: str, marked: Mapping[str, Mapping[str, Any]],
                   signed: SignedMetadata) -> None:
    package = Package(source)
    package.drop_macros()
    book = Workbook(package)
    part, meta_part = book.sheet_part(sheet_name), book.sheet_part(metadata_sheet)
    if part is None or meta_part is None or book.styles is None:
        raise Unsupported("data, metadata or styles part missing")
    styles = Styles(package, book.styles)
    colours = {"font_color": RED_TEXT, "fill_color": RED, "mark_fill": MARK_FILL}
    # The formats marked by an earlier version of the report (none in a first version).
    earlier = styles.marked(**colours)

    def restyle(mark: Mapping[str, Any]) -> Callable[[int], int | None]:
        def style(xf: int) -> int | None:
            base = (styles.plain(xf, normal_fill=mark.get("fill"), **colours)
                    if xf in earlier else xf)
            if mark.get("error") or mark.get("red"):
                return styles.variant(base, filled=bool(mark.get("error")), **colours)
            return base if base != xf else None
        return style

    shown = {address: mark for address, mark in marked.items()
             if mark.get("red") or mark.get("error")}
    package.set_text(part, restyle_cells(package.text(part), {
        address: restyle(mark) for address, mark in (marked if earlier else shown).items()}))
    set_comments(package, part, {address: str(mark["error"])[:1000]
                                 for address, mark in shown.items() if mark.get("error")},
                 ours=_is_ours)
    bold, wrap = styles.cell_format(bold=True, wrap=True), styles.cell_format(wrap=True)
    money = styles.cell_format(num_fmt=MONEY_FORMAT)
    setups = _print_setups(data)
    errors = _error_rows(data)
    book.put_sheet("Errors", sheet_xml(
        errors, ERROR_WIDTHS, styles=[wrap] * len(ERROR_HEADERS), header_style=bold,
        heights=_error_heights(errors), print_setup=setups["Errors"]))
    book.put_sheet("Summary", sheet_xml(
        _summary_rows(data), SUMMARY_WIDTHS, styles=[bold, None], money_style=money,
        print_setup=setups["Summary"]))
    over_figures = styles.cell_format(bold=True, wrap=True, right=True)  # as "bold", right
    book.put_sheet("Posting", sheet_xml(
        _posting_rows(data), POSTING_WIDTHS, header_style=bold, money_style=money,
        print_setup=setups["Posting"],
        header_styles=dict.fromkeys(POSTING_FIGURES, over_figures)))
    styles.save()
    for name, setup in setups.items():
        titles = setup.print_titles(name)
        if titles is not None:
            book.set_defined_name("_xlnm.Print_Titles", name, titles)
    package.set_text(meta_part, sheet_xml(signed.rows(), keep_from=package.text(meta_part)))
    package.save(target)


def _rewrite_with_openpyxl(source: Path, target: Path, data: ReportData, sheet_name: str,
                           metadata_sheet: str, marked: Mapping[str, Mapping[str, Any]],
                           signed: SignedMetadata) -> None:
    from openpyxl import load_workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill

    with source.open("rb") as stream:  # a stream: openpyxl would judge a path by its name
        book = load_workbook(stream)  # without keep_vba: the report never carries macros
    ws = book[sheet_name]
    fill = PatternFill("solid", start_color=RED, end_color=RED)
    for row in ws.iter_rows():  # the engine's comments of an earlier version
        for cell in row:
            if cell.comment is not None and _is_ours(cell.comment.author or "",
                                                     cell.comment.text or ""):
                cell.comment = None
    for address, mark in marked.items():
        cell = ws[address]
        red_font = _rgb(cell.font.color) == RED_TEXT
        if cell.fill.fill_type == "solid" and _rgb(cell.fill.fgColor) in (RED, MARK_FILL):
            normal = mark.get("fill")
            cell.fill = (PatternFill("solid", start_color=normal, end_color=normal) if normal
                         else PatternFill(fill_type=None))
        if mark.get("red") or mark.get("error") or red_font:
            font = copy(cell.font)
            font.color = RED_TEXT if mark.get("red") or mark.get("error") else None
            cell.font = font
        if mark.get("red") and not mark.get("error"):
            cell.fill = PatternFill("solid", start_color=MARK_FILL, end_color=MARK_FILL)
        if mark.get("error"):
            cell.fill = fill
            comment = Comment(str(mark["error"])[:1000], AUTHOR)
            comment.width, comment.height = 300, 120
            cell.comment = comment
    setups = _print_setups(data)
    errors = _error_rows(data)
    heights = dict(enumerate(_error_heights(errors), start=1))
    for name, rows, widths in (("Errors", errors, ERROR_WIDTHS),
                               ("Summary", _summary_rows(data), SUMMARY_WIDTHS),
                               ("Posting", _posting_rows(data), POSTING_WIDTHS)):
        if name in book.sheetnames:
            del book[name]
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
            for cell in sheet[sheet.max_row]:  # text stays text even when it starts with "="
                if isinstance(cell.value, str):
                    cell.data_type = "s"
                if isinstance(cell.value, Decimal):
                    cell.number_format = "#,##0.00"
                if name == "Errors":
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                if cell.row == 1 or (name == "Summary" and cell.column == 1):
                    cell.font = Font(bold=True)
                if name == "Posting" and cell.row == 1 and cell.column - 1 in POSTING_FIGURES:
                    cell.alignment = Alignment(horizontal="right")
            if name == "Errors" and heights.get(sheet.max_row):
                sheet.row_dimensions[sheet.max_row].height = heights[sheet.max_row]
        for number, width in enumerate(widths, start=1):
            sheet.column_dimensions[column_letters(number)].width = width
        setups[name].apply_openpyxl(sheet)
    meta = book[metadata_sheet]
    meta.delete_rows(1, meta.max_row)
    for row in signed.rows():
        meta.append(list(row))
    book.active = book.sheetnames.index(sheet_name)
    book.save(target)
