"""Writing the parts of an xlsx package directly, for workbooks written in bulk.

xlsxwriter spends about 15 microseconds on each cell (argument checks, a cell object, then
XML through many small calls), which is most of the cost of a collection sheet. A writer
that produces the same layout hundreds of times (the sheets of a branch) instead:

* renders once, with xlsxwriter, the parts that are the same for every workbook of the
  layout: styles, theme, content types, relationships, the list of parts in app.xml
  (:func:`static_parts`; the style index of each xlsxwriter format comes with them);
* writes the worksheets, the shared strings, ``workbook.xml`` and ``core.xml`` itself,
  as text, with the escaping helpers here (:func:`text`, :func:`attr`,
  :class:`SharedStrings`), and zips everything (:func:`write_package`).

The XML written has the elements and attributes xlsxwriter writes for the same calls
(without the optional row spans, one ``<col>`` a column) and its escaping of text (control
characters as ``_xHHHH_``), so Excel, LibreOffice, openpyxl and calamine read it alike;
control characters, which XML cannot carry, are left out of attribute values (input
messages), where xlsxwriter would write an unreadable file.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
WORKSHEET_OPEN = (
    XML_DECLARATION + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
    '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships">')
SHEET_PROTECTION = '<sheetProtection sheet="1" objects="1" scenarios="1"/>'
DEFAULT_MARGINS = ('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
                   'header="0.3" footer="0.3"/>')

# The parts that depend only on the layout (the sheets, the formats, the defined names),
# not on the content: rendered once by xlsxwriter.
STATIC_PARTS = ("[Content_Types].xml", "_rels/.rels", "docProps/app.xml",
                "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/theme/theme1.xml")

COMPRESS_LEVEL = 1
_EPOCH = dt.date(1899, 12, 30)
_TEXT_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
ATTR_SPECIAL = re.compile(r'[&<>"\x00-\x1f]')
"""What :func:`attr` changes: a text it does not match is written as it is."""
_ESCAPED_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_ATTR_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def text(value: str) -> tuple[str, bool]:
    """Text for an element's content, and whether its spaces must be preserved.

    &, < and > are escaped; control characters become ``_xHHHH_`` (an ``_xHHHH_`` already
    in the text is protected as ``_x005F_xHHHH_``), as Excel does.
    """
    if not _TEXT_SPECIAL.search(value):
        return value, False
    value = _ESCAPED_ESCAPE.sub(r"_x005F\1", value)
    value = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    value = value.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    preserve = value[:1].isspace() or value[-1:].isspace()
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), preserve


def attr(value: str) -> str:
    """Text for an attribute value (double quotes and line breaks escaped; other control
    characters, which XML cannot carry, left out)."""
    if not ATTR_SPECIAL.search(value):
        return value
    value = _ATTR_CONTROL.sub("", value)
    return (value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;").replace("\n", "&#xA;").replace("\r", "&#xD;")
            .replace("\t", "&#x9;"))


def element_text(value: str) -> str:
    """Text for an element's content where spaces need no preserving (headers, titles)."""
    return text(value)[0]


class SharedStrings:
    """The shared string table of one workbook: each distinct text once, by index."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.count = 0

    def __call__(self, value: str) -> int:
        """The index of a text (added when new); every call counts one cell."""
        self.count += 1
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.index)
        return found

    def xml(self) -> str:
        items = []
        special = _TEXT_SPECIAL.search  # most texts (names, keys) need no escaping
        for value in self.index:
            if special(value) is None:
                items.append(f"<si><t>{value}</t></si>")
                continue
            escaped, preserve = text(value)
            items.append(f'<si><t xml:space="preserve">{escaped}</t></si>' if preserve
                         else f"<si><t>{escaped}</t></si>")
        return (f'{XML_DECLARATION}<sst xmlns="http://schemas.openxmlformats.org/'
                f'spreadsheetml/2006/main" count="{self.count}" '
                f'uniqueCount="{len(self.index)}">{"".join(items)}</sst>')


@lru_cache(maxsize=256)
def letter(index: int) -> str:
    """The letter of a 0-based column index (0 -> A)."""
    return str(xl_col_to_name(index))


def col_width(chars: float) -> str:
    """A column width in characters as Excel stores it (xlsxwriter's conversion)."""
    pixels = int(chars * 7 + 0.5) + 5 if chars >= 1 else int(chars * 12 + 0.5)
    return f"{(pixels * 256 // 7) / 256:.16g}"


def date_serial(day: dt.date) -> int:
    """Excel's serial number of a date (1900 date system)."""
    return (day - _EPOCH).days


def quote_sheet(name: str) -> str:
    """A sheet name as written in a formula or defined name."""
    return "'" + name.replace("'", "''") + "'"


def metadata_sheet_xml(rows: Iterable[tuple[str, str]], strings: SharedStrings,
                       widths: tuple[float, float], protect: bool) -> str:
    """A sheet of (name, text) rows in columns A and B, without styles."""
    body = []
    n = 0
    for n, (name, value) in enumerate(rows, start=1):
        body.append(f'<row r="{n}"><c r="A{n}" t="s"><v>{strings(name)}</v></c>'
                    f'<c r="B{n}" t="s"><v>{strings(value)}</v></c></row>')
    cols = "".join(f'<col min="{i}" max="{i}" width="{col_width(w)}" customWidth="1"/>'
                   for i, w in enumerate(widths, start=1))
    return (f'{WORKSHEET_OPEN}<dimension ref="{f"A1:B{n}" if n else "A1"}"/><sheetViews>'
            '<sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
            f'<cols>{cols}</cols><sheetData>{"".join(body)}</sheetData>'
            f'{SHEET_PROTECTION if protect else ""}{DEFAULT_MARGINS}</worksheet>')


def list_sheet_xml(values: Iterable[str], strings: SharedStrings) -> str:
    """A sheet holding one value a row in column A (the source of a long dropdown list)."""
    body = [f'<row r="{n}"><c r="A{n}" t="s"><v>{strings(v)}</v></c></row>'
            for n, v in enumerate(values, start=1)]
    return (f'{WORKSHEET_OPEN}<dimension ref="A1:A{max(1, len(body))}"/><sheetViews>'
            '<sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
            f'<sheetData>{"".join(body)}</sheetData>{DEFAULT_MARGINS}</worksheet>')


@dataclass(frozen=True)
class SheetEntry:
    """A sheet of the workbook, in order: its name and whether it is very hidden."""

    name: str
    very_hidden: bool = False


def workbook_xml(sheets: Iterable[SheetEntry], defined_names: Iterable[tuple[str, int, str]],
                 ) -> str:
    """``xl/workbook.xml``: the sheets (relationship ``rIdN`` is sheet N) and the defined
    names (name, local sheet index, formula), as xlsxwriter writes it (full recalculation
    on load)."""
    hidden = ' state="veryHidden"'
    entries = "".join(
        f'<sheet name="{attr(s.name)}" sheetId="{i}"{hidden if s.very_hidden else ""}'
        f' r:id="rId{i}"/>' for i, s in enumerate(sheets, start=1))
    names = "".join(f'<definedName name="{name}" localSheetId="{local}">'
                    f"{element_text(formula)}</definedName>"
                    for name, local, formula in defined_names)
    return (f'{XML_DECLARATION}<workbook xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><fileVersion appName="xl" lastEdited="4" '
            'lowestEdited="4" rupBuild="4505"/><workbookPr defaultThemeVersion="124226"/>'
            '<bookViews><workbookView xWindow="240" yWindow="15" windowWidth="16095" '
            f'windowHeight="9660"/></bookViews><sheets>{entries}</sheets>'
            f'{f"<definedNames>{names}</definedNames>" if names else ""}'
            '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')


def core_xml(title: str, comments: str, created: dt.datetime) -> str:
    """``docProps/core.xml``: title, comments and the creation time (UTC)."""
    stamp = created.replace(microsecond=0).isoformat() + "Z"
    return (f'{XML_DECLARATION}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
            'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"'
            ' xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/'
            'dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{element_text(title)}</dc:title><dc:creator></dc:creator>"
            f"<dc:description>{element_text(comments)}</dc:description>"
            "<cp:lastModifiedBy></cp:lastModifiedBy>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
            "</cp:coreProperties>")


@dataclass(frozen=True)
class StaticParts:
    """The invariant parts of a layout, and the style index of each named format."""

    parts: Mapping[str, bytes]
    styles: Mapping[str, int]

    @cached_property
    def deflated(self) -> dict[str, ZipMember]:
        """Each part deflated once, to be copied as it is into every package."""
        return {name: _deflate(name, data) for name, data in self.parts.items()}


def static_parts(build: Callable[[Any], Mapping[str, Any]]) -> StaticParts:
    """Render the invariant parts of a layout with xlsxwriter.

    ``build(book)`` adds the layout's sheets (same names, order, visibility and defined
    names as the workbooks that will be written) and its formats, writes at least one
    text cell, and returns the formats by name, each used in some cell so that it gets a
    style index.
    """
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    formats = build(book)
    book.close()
    with zipfile.ZipFile(buffer) as package:
        parts = {name: package.read(name) for name in STATIC_PARTS}
    # The index xlsxwriter gave each format's properties (shared by identical formats).
    styles = {name: fmt._get_xf_index() for name, fmt in formats.items()}
    return StaticParts(parts, styles)


_MADE_BY = (3 << 8) | 20  # version 2.0 on Unix, as zipfile says
_ATTRIBUTES = 0o600 << 16  # -rw-------, as zipfile gives a part written from bytes


@dataclass(frozen=True, slots=True)
class ZipMember:
    """A part of a zip as it is stored (``data`` compressed by ``method``), with what its
    headers say about it. The defaults are what zipfile writes for a part xlsxwriter dated
    1980-01-01 00:00: deflated, no flags, made on Unix, -rw-------."""

    name: bytes
    crc: int
    size: int
    data: bytes
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0
    date_time: tuple[int, ...] = (1980, 1, 1, 0, 0, 0)
    made_by: int = _MADE_BY
    external_attr: int = _ATTRIBUTES
    internal_attr: int = 0


def _deflate(name: str, data: bytes) -> ZipMember:
    packer = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
    return ZipMember(name.encode("utf-8"), zlib.crc32(data), len(data),
                     packer.compress(data) + packer.flush())


_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")


def write_zip(path: Path, members: Sequence[ZipMember]) -> None:
    """Write ``members`` as a zip file (the plain format, not ZIP64), each copied as it is
    stored: the same bytes as zipfile's for the same members."""
    chunks: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for m in members:
        flags = m.flags if m.name.isascii() else m.flags | 0x800  # the name is UTF-8
        when = m.date_time
        dos_time = when[3] << 11 | when[4] << 5 | when[5] // 2
        dos_date = (when[0] - 1980) << 9 | when[1] << 5 | when[2]
        header = _LOCAL.pack(b"PK\x03\x04", 20, flags, m.method, dos_time, dos_date,
                             m.crc, len(m.data), m.size, len(m.name), 0)
        central.append(_CENTRAL.pack(b"PK\x01\x02", m.made_by, 20, flags, m.method, dos_time,
                                     dos_date, m.crc, len(m.data), m.size, len(m.name),
                                     0, 0, 0, m.internal_attr, m.external_attr, offset)
                       + m.name)
        chunks += (header, m.name, m.data)
        offset += len(header) + len(m.name) + len(m.data)
    directory = b"".join(central)
    chunks += (directory, _END.pack(b"PK\x05\x06", 0, 0, len(members), len(members),
                                    len(directory), offset, 0))
    path.write_bytes(b"".join(chunks))


def write_package(path: Path, static: StaticParts, parts: Iterable[tuple[str, str]]) -> None:
    """Zip the static parts and the given (name, XML text) parts into ``path``.

    The zip is written here rather than by :mod:`zipfile`: the static parts are deflated
    once per layout (:attr:`StaticParts.deflated`) and copied, and each other part costs
    one deflate and two headers. The fastest deflate level saves a twentieth of the
    generation time, for files an eighth larger (a sheet of 40 rows: 17 KB, not 15 KB).
    """
    deflated = static.deflated
    # The content types first, as Office writes them; then the given parts; then the rest.
    members = [deflated["[Content_Types].xml"],
               *(_deflate(name, xml.encode("utf-8")) for name, xml in parts),
               *(d for n, d in deflated.items() if n != "[Content_Types].xml")]
    write_zip(path, members)
