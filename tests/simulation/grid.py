"""A collection sheet (generated, or a report to correct) edited by keys, as a person would:
cells found by the hidden row and column keys, so sorted rows and reports work alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.formula.translate import Translator

from tests.support.libreoffice import convert


class Grid:
    """An open workbook's collection grid: ``set`` a cell by (row key, column key)."""

    def __init__(self, path: Path, expected: dict[str, Any]) -> None:
        self.book = load_workbook(path)
        self.expected = expected
        self.ws = self.book[expected["sheet"]]
        key_row = int(expected["key_row"])
        self.columns = {str(cell.value): cell.column for cell in self.ws[key_row]
                        if cell.value is not None}
        key_column = self.columns["row_key"]
        self.rows = {str(self.ws.cell(r, key_column).value): r
                     for r in range(key_row + 1, self.ws.max_row + 1)
                     if self.ws.cell(r, key_column).value is not None}

    def set(self, row_key: str, column_key: str, value: Any) -> None:
        self.ws.cell(self.rows[row_key], self.columns[column_key]).value = value

    def header(self, key: str, value: Any) -> None:
        self.ws[self.expected["header"][key]["cell"]].value = value

    def sort_rows_by_name(self) -> None:
        """Sort the generated rows by name, as Excel's Data > Sort does: whole rows move,
        formulas follow their row."""
        numbers = sorted(self.rows.values())
        width = self.ws.max_column
        name_column = self.columns["name"]
        content = {r: [self.ws.cell(r, c).value for c in range(1, width + 1)] for r in numbers}
        order = sorted(numbers, key=lambda r: (str(content[r][name_column - 1] or ""), r))
        for target, source in zip(numbers, order, strict=True):
            for c, value in enumerate(content[source], start=1):
                if isinstance(value, str) and value.startswith("="):
                    origin = self.ws.cell(source, c).coordinate
                    value = Translator(value, origin=origin).translate_formula(
                        self.ws.cell(target, c).coordinate)
                self.ws.cell(target, c).value = value
        self.rows = {key: numbers[order.index(r)] for key, r in self.rows.items()}

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.book.save(path)
        self.book.close()
        return path


def libreoffice_resave(path: Path, work: Path) -> Path:
    """The file opened and saved again by LibreOffice (recalculated), as an .xlsx."""
    return convert(path, "xlsx", work)
