"""Declaring a kind of workbook once: its sheets, header block, columns and metadata.

A :class:`WorkbookKind` is the single description of a workbook kind (the collection sheet,
the client-import template, ...). The writer, the reader, the pandera schema and the reports
are all driven by it, so they cannot drift apart:

* :class:`HeaderField`: a labelled cell of the header block above the grid (fixed address).
* :class:`ColumnSpec`: a column of the grid, with a stable ``key``, its type, whether it is an
  input cell, its dropdown list, and its money flow (collected or paid out) for totals. A spec
  with ``per`` set is a *family*: it expands into one column per product (``per="loan"`` /
  ``per="savings"``), whose key is ``"<family>:<product id>"`` (e.g. ``repayment:1``).
* :meth:`WorkbookKind.expand` turns the specs into the concrete :class:`Column` list of one
  workbook (with letters), given the products that have columns in it.

Rows and columns of a returned workbook are always found by key (the hidden key row and key
column), never by position.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property



class CellType(StrEnum):
    """What a cell holds."""

    TEXT = "text"
    INTEGER = "integer"
    MONEY = "money"
    DATE = "date"
    CHOICE = "choice"


class Flow(StrEnum):
    """Which way money in a column moves, for the totals."""

    NONE = "none"
    COLLECTED = "collected"
    PAID_OUT = "paid_out"


@dataclass(frozen=True)
class ColumnSpec:
    """One column (or one family of per-product columns) of a workbook's grid.

    Attributes:
        key: stable key (family key for per-product columns).
        header: the header text (per-product columns show the product's name instead).
        type: what the cells hold.
        input: True when the cells are editable by the user (where they apply).
        section: the super-header spanning the column ("Due", ...), or None.
        per: None, or the kind of item the family expands over ("loan", "savings").
        flow: money collected or paid out (summed by the row totals).
        total_of: for a formula column, the flow it sums across the row.
        choices: name of the dropdown list (resolved when writing), for CHOICE cells.
        width: column width in characters.
        hidden: a column for the engine (row keys), hidden from the user.
        help: one sentence for the input message and the documentation.
        mandatory: the cell must be filled in (the header is marked with ``*``).
        variant: None when the column is always present, else the one variant of the kind
            it belongs to (e.g. the legal form "person" or "entity" of a client template).
        aliases: other headers the column is recognised by, for workbooks that carry no key
            row (e.g. the headers of a Mifos X / Fineract import workbook).
        spread: the column's list goes on in the cells to its right that have no header
            (Fineract's "Client Names ... (Enter in consecutive cells horizontally)"); read
            as one text, the values joined by "; ".
    """

    key: str
    header: str
    type: CellType
    input: bool = False
    section: str | None = None
    per: str | None = None
    flow: Flow = Flow.NONE
    total_of: Flow | None = None
    choices: str | None = None
    width: float = 12.0
    hidden: bool = False
    help: str = ""
    mandatory: bool = False
    variant: str | None = None
    aliases: tuple[str, ...] = ()
    spread: bool = False

    def column_key(self, item_id: int | None = None) -> str:
        """The stable key of the concrete column (``repayment:1`` for product 1)."""
        if self.per is None:
            return self.key
        if item_id is None:
            raise ValueError(f"column family {self.key!r} needs a {self.per} id")
        return f"{self.key}:{item_id}"


@dataclass(frozen=True)
class Column:
    """A concrete column of one workbook: a spec, and for a family, the product."""

    spec: ColumnSpec
    key: str
    header: str
    index: int
    item_id: int | None = None

    @cached_property
    def letter(self) -> str:
        """The column's letter (A, B, ...)."""
        return column_letter(self.index)


@dataclass(frozen=True)
class HeaderField:
    """A labelled cell of the header block; ``value_cell`` may be a merged range
    ("C2:E2"), whose first cell holds the value."""

    key: str
    label: str
    label_cell: str
    value_cell: str
    type: CellType = CellType.TEXT
    input: bool = False
    choices: str | None = None
    help: str = ""

    @property
    def anchor(self) -> str:
        """The cell holding the value (the top-left cell of the value range)."""
        return self.value_cell.split(":")[0]


@dataclass(frozen=True)
class SheetSpec:
    """A further grid sheet of a kind (e.g. the family members of a client template).

    Its rows are laid out like the data sheet's (``header_row``, ``key_row``,
    ``first_data_row`` of the kind).
    """

    name: str
    columns: tuple[ColumnSpec, ...]


@dataclass(frozen=True)
class WorkbookKind:
    """Everything that identifies and lays out one kind of workbook.

    Rows are numbered as in Excel (1-based): ``section_row`` holds the super-headers,
    ``header_row`` the column headers, ``key_row`` (hidden) the column keys, and data starts
    at ``first_data_row``.
    """

    name: str
    title: str
    template_version: int
    data_sheet: str
    metadata_sheet: str
    header_fields: tuple[HeaderField, ...]
    columns: tuple[ColumnSpec, ...]
    metadata_fields: tuple[str, ...]
    section_row: int
    header_row: int
    key_row: int
    first_data_row: int
    extra_sheets: tuple[SheetSpec, ...] = ()

    def header_field(self, key: str) -> HeaderField:
        """The header field with this key."""
        for field in self.header_fields:
            if field.key == key:
                return field
        raise KeyError(key)

    def extra_sheet(self, name: str) -> SheetSpec:
        """The further sheet with this name."""
        for sheet in self.extra_sheets:
            if sheet.name == name:
                return sheet
        raise KeyError(name)

    def column_spec(self, key: str) -> ColumnSpec:
        """The column spec (or family) with this key; ``repayment:3`` finds ``repayment``."""
        family = key.split(":", 1)[0]
        for spec in self.columns:
            if spec.key == family:
                return spec
        raise KeyError(key)

    def expand(self, items: Mapping[str, Sequence[tuple[int, str]]],
               variant: str | None = None,
               specs: Sequence[ColumnSpec] | None = None) -> tuple[Column, ...]:
        """The concrete columns, in order, given ``{per: [(id, name), ...]}`` for families.

        With ``variant``, columns of other variants are left out; ``specs`` expands the
        columns of a further sheet instead of the data sheet's.
        """
        columns: list[Column] = []
        for spec in self.columns if specs is None else specs:
            if spec.variant is not None and spec.variant != variant:
                continue
            if spec.per is None:
                columns.append(Column(spec, spec.key, spec.header, len(columns)))
                continue
            for item_id, name in items.get(spec.per, ()):
                columns.append(Column(spec, spec.column_key(item_id), name, len(columns),
                                      item_id))
        return tuple(columns)


def column_letter(index: int) -> str:
    """The letter of a 0-based column index (0 -> A); without openpyxl, which commands that
    only read the database do not load."""
    return column_letters(index + 1)


def column_letters(number: int) -> str:
    """The letters of a 1-based column number (1 -> A, 27 -> AA)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def header_text(spec: ColumnSpec, header: str | None = None) -> str:
    """The header as written: mandatory columns end with " *"."""
    text = header or spec.header
    return f"{text} *" if spec.mandatory else text
