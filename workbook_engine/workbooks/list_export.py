"""A plain list as an .xlsx for a supervisor to sort and filter in Excel (the queue, the cash
counted): a title row, a header row with autofilter and frozen panes, one row per record.

Money is written as numbers with two decimals, dates as dates, and every text with
``write_string`` (a name starting with ``=`` stays text, never a formula).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import xlsxwriter


@dataclass(frozen=True)
class ListColumn:
    """One column: its header, how to get its value from a record, its kind and width."""

    header: str
    value: Callable[[Mapping[str, Any]], Any]
    kind: str = "text"  # text | money | date | datetime | integer
    width: int = 14


def field_column(header: str, key: str, kind: str = "text", width: int = 14) -> ListColumn:
    """A column showing ``record[key]``."""
    return ListColumn(header, lambda record: record.get(key), kind, width)


def write_list(title: str, columns: Sequence[ListColumn],
               records: Iterable[Mapping[str, Any]], sheet: str = "List") -> bytes:
    """The .xlsx bytes of ``records`` under ``title`` (streamed: memory stays flat)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": True})
    formats = {
        "title": book.add_format({"bold": True, "font_size": 13}),
        "header": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                   "text_wrap": True, "valign": "top"}),
        "money": book.add_format({"num_format": "#,##0.00"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd", "align": "left"}),
        "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm", "align": "left"}),
        "integer": book.add_format({"num_format": "0"}),
    }
    ws = book.add_worksheet(sheet[:31])
    ws.write_string(0, 0, title, formats["title"])
    for c, column in enumerate(columns):
        ws.set_column(c, c, column.width)
        ws.write_string(1, c, column.header, formats["header"])
    last = 1
    for r, record in enumerate(records, start=2):
        last = r
        for c, column in enumerate(columns):
            _write(ws, r, c, column.value(record), column.kind, formats)
    ws.freeze_panes(2, 0)
    ws.autofilter(1, 0, last, max(0, len(columns) - 1))
    book.close()
    return buffer.getvalue()


def _write(ws: Any, r: int, c: int, value: Any, kind: str, formats: dict[str, Any]) -> None:
    if value is None or value == "":
        return
    if kind == "money" and isinstance(value, (Decimal, int, str)):
        ws.write_number(r, c, float(Decimal(str(value))), formats["money"])
    elif kind == "integer" and isinstance(value, int):
        ws.write_number(r, c, value, formats["integer"])
    elif kind in ("date", "datetime") and isinstance(value, dt.date):
        ws.write_datetime(r, c, value, formats["datetime" if isinstance(value, dt.datetime)
                                              else "date"])
    else:
        ws.write_string(r, c, str(value))
