"""Pre-checks on zip-based spreadsheets (xlsx, xlsm, ods), run in the parent
before any spreadsheet parser sees the file.

* central directory: member count, declared sizes, per-member ratio;
* every member is inflated once, streamed, with counters: never more than its
  declared size (a lying central directory is a zip bomb), never more than
  ``max_uncompressed_bytes`` in total; the CRC is checked;
* every member's bytes are scanned for ``<!DOCTYPE`` / ``<!ENTITY`` (UTF-8 and
  UTF-16) -> ``xml-unsafe``.  This covers every member, whatever its name,
  because a relationship may point a parser at any member;
* for OOXML: workbook.xml (and its rels) parsed with defusedxml -> sheet list,
  sheet count, and each sheet's ``<dimension ref>`` checked against the limits;
  the ``<row>`` elements of each sheet are counted while it is scanned, so that a
  sheet of a million formatted but empty rows (a small file that a reader, or the
  report writer, would expand to gigabytes) is refused even when its dimension
  claims a small range. A sheet's ``<dimension>`` is looked for first in its head, inflated
  up to the start of its cells (``<sheetData>``) or 64 KB, before the counted inflation;
* the XML of each sheet with formulas (up to 4 MB) is kept as inflated here, for the child
  to read the formulas from (``ZipFacts.formula_xml``) without inflating it again.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from defusedxml import ElementTree as DET

from ._types import ReadLimits, UnreadableFile

_CHUNK = 64 * 1024
_RATIO_FLOOR = 1 * 2**20  # the ratio limit applies to members bigger than this
_HEAD_KEEP = 64 * 1024  # bytes kept from the start of each sheet part, for <dimension>
_PEEK_STEP = 4 * 1024  # bytes inflated at a time looking for the end of a sheet's head
_HANDED_OVER_UP_TO = 4 * 2**20  # a sheet with formulas up to this size goes to the child inflated
_SMALL_XML_KEEP = 16 * 2**20  # workbook.xml / rels are kept whole up to this size

_UNSAFE = [
    s.encode(enc) for s in ("<!DOCTYPE", "<!ENTITY") for enc in ("utf-8", "utf-16-le", "utf-16-be")
]
_UNSAFE_PREFIXES = tuple({"<!".encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be")})
_OVERLAP = max(len(p) for p in _UNSAFE)
_MARKUP_DECLARATION = re.compile(rb"<!")  # ``in`` takes twice as long on a sheet's XML
_FORMULA_RE = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?f[\s/>]")
_DIMENSION_RE = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?dimension\b[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_SHEETDATA_RE = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?sheetData\b")
_ROW_RE = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?row[\s/>]")
_REF_RE = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_CELL_TAG_RE = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?c[\s/>][^<>]*>")
_CELL_REF_RE = re.compile(rb"\sr\s*=\s*[\"']\$?([A-Za-z]{1,3})\$?([0-9]{1,7})[\"']")
_TAG_TAIL_KEEP = 64 * 1024  # an unfinished tag longer than this is not a cell's

REL_OFFICE_DOC = "/officeDocument"


@dataclass(frozen=True)
class SheetPart:
    """A sheet as listed in workbook.xml."""

    name: str
    state: str  # visible | hidden | veryHidden
    part: str | None  # zip member name of the sheet XML, if resolved
    is_worksheet: bool
    #: its cells were found within the limits, whatever its ``<dimension>`` claims
    cells_within_limits: bool = False


@dataclass
class ZipFacts:
    """What the pre-check learned; handed to the child process."""

    sheets: list[SheetPart] = field(default_factory=list)
    formula_parts: set[str] = field(default_factory=set)
    #: the XML of the sheet parts with formulas, as inflated and checked here (each up to
    #: ``_HANDED_OVER_UP_TO`` bytes), so that the child reads their formulas without
    #: inflating them again
    formula_xml: dict[str, bytes] = field(default_factory=dict)


def split_ref(ref: str) -> tuple[int, int]:
    """'XFD1048576' -> (1048576, 16384).  Raises ValueError."""
    m = _REF_RE.match(ref.strip())
    if not m:
        raise ValueError(f"bad cell reference {ref!r}")
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + (ord(ch) - 64)
    return int(m.group(2)), col


def col_letters(col: int) -> str:
    """16384 -> 'XFD'."""
    out = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def _bomb(detail: str) -> UnreadableFile:
    return UnreadableFile("zip-bomb", detail=detail)


def _corrupt(detail: str) -> UnreadableFile:
    return UnreadableFile("zip-corrupt", detail=detail)


class _Scanner:
    """Streaming search for DTD / entity declarations and (optionally) <f> elements."""

    def __init__(self, name: str, count_rows: bool = False) -> None:
        self.name = name
        self.tail = b""
        self.has_formula = False
        self.count_rows = count_rows
        self.rows = 0

    def feed(self, data: bytes) -> None:
        buf = self.tail + data
        if self.count_rows:  # a match that ends inside the tail was counted with the last chunk
            self.rows += sum(1 for m in _ROW_RE.finditer(buf) if m.end() > len(self.tail))
        # Cheap byte searches first (most chunks of a big sheet hold neither); the exact
        # patterns only where one of their prefixes occurs.
        if _MARKUP_DECLARATION.search(buf) or (b"\x00" in buf and any(prefix in buf for prefix in _UNSAFE_PREFIXES)):
            for pat in _UNSAFE:
                if pat in buf:
                    raise UnreadableFile(
                        "xml-unsafe",
                        detail=f"member {self.name!r} contains {pat!r} (DTD/entity declaration: XML bomb or XXE)",
                    )
        if not self.has_formula and (b"<f" in buf or b":f" in buf) and _FORMULA_RE.search(buf):
            self.has_formula = True
        self.tail = buf[-_OVERLAP:]


class _CellExtent:
    """Streaming search for the last row and column that hold a ``<c>`` element: where a
    sheet's cells really reach, whatever its ``<dimension>`` says."""

    def __init__(self) -> None:
        self.rows = 0
        self.columns = 0
        self.unplaced = False  # a cell without r="": its place is not known here
        self.tail = b""

    def feed(self, data: bytes) -> None:
        buf = self.tail + data
        for tag in _CELL_TAG_RE.finditer(buf):
            ref = _CELL_REF_RE.search(tag.group(0))
            if ref is None:
                self.unplaced = True
                continue
            row, column = split_ref(ref.group(1).decode() + ref.group(2).decode())
            self.rows = max(self.rows, row)
            self.columns = max(self.columns, column)
        last_open = buf.rfind(b"<")
        unfinished = last_open >= 0 and buf.find(b">", last_open) < 0
        self.tail = buf[last_open:] if unfinished else b""
        if len(self.tail) > _TAG_TAIL_KEEP:  # no cell's tag is that long: do not vouch for it
            self.unplaced = True
            self.tail = b""

    def within(self, limits: ReadLimits) -> bool:
        """Whether every cell lies within the row and column limits (known to)."""
        return not self.unplaced and self.rows <= limits.max_rows and self.columns <= limits.max_columns


def _cell_extent(f: BinaryIO, info: zipfile.ZipInfo, file_size: int, declared: int,
                 limits: ReadLimits) -> _CellExtent | None:
    """Where a sheet's cells reach, inflating it once more (only for a sheet whose dimension
    claims too much: rare); None, the dimension's claim standing, when the file is too large
    to be inflated at all (it is refused for that)."""
    if declared > limits.max_uncompressed_bytes:
        return None
    extent = _CellExtent()
    _inflate_member(f, info, file_size, [limits.max_uncompressed_bytes], extent.feed)
    return extent


def _inflate_member(
    f: BinaryIO,
    info: zipfile.ZipInfo,
    file_size: int,
    budget: list[int],
    sink: Callable[[bytes], None],
) -> None:
    """Stream-inflate one member from the raw file, counting every byte produced."""
    if info.flag_bits & 0x1:
        raise UnreadableFile("encrypted", detail=f"zip member {info.filename!r} is encrypted")
    if info.header_offset + 30 > file_size:
        raise _corrupt(f"local header of {info.filename!r} beyond end of file")
    f.seek(info.header_offset)
    local = f.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise _corrupt(f"bad local header for {info.filename!r}")
    name_len, extra_len = struct.unpack_from("<HH", local, 26)
    data_start = info.header_offset + 30 + name_len + extra_len
    remaining = info.compress_size
    if data_start + remaining > file_size:
        raise _corrupt(f"data of {info.filename!r} runs past the end of the file (truncated?)")
    f.seek(data_start)
    method = info.compress_type
    if method == zipfile.ZIP_STORED:
        decomp = None
    elif method == zipfile.ZIP_DEFLATED:
        decomp = zlib.decompressobj(-15)
    else:
        raise _corrupt(f"member {info.filename!r} uses unsupported compression method {method}")
    produced = 0
    crc = 0

    def emit(out: bytes) -> None:
        nonlocal produced, crc
        if not out:
            return
        produced += len(out)
        budget[0] -= len(out)
        if produced > info.file_size:
            raise _bomb(f"member {info.filename!r} inflates to more than its declared {info.file_size} bytes")
        if budget[0] < 0:
            raise _bomb("members inflate to more than max_uncompressed_bytes in total")
        crc = zlib.crc32(out, crc)
        sink(out)

    try:
        while remaining > 0:
            chunk = f.read(min(_CHUNK, remaining))
            if not chunk:
                raise _corrupt(f"unexpected end of file inside {info.filename!r}")
            remaining -= len(chunk)
            if decomp is None:
                emit(chunk)
                continue
            data = chunk
            while True:
                out = decomp.decompress(data, _CHUNK)
                emit(out)
                data = decomp.unconsumed_tail
                if decomp.eof or (not data and len(out) < _CHUNK):
                    break
            if decomp.eof:
                break
        if decomp is not None and not decomp.eof:
            raise _corrupt(f"deflate stream of {info.filename!r} is incomplete")
    except zlib.error as e:
        raise _corrupt(f"cannot inflate {info.filename!r}: {e}") from e
    if produced != info.file_size:
        raise _corrupt(f"member {info.filename!r} inflates to {produced} bytes, {info.file_size} declared")
    if crc != info.CRC:
        raise _corrupt(f"CRC mismatch in {info.filename!r}")


def check_zip(path: Path, limits: ReadLimits, kind: str) -> ZipFacts:
    """Run all zip pre-checks; raise :class:`UnreadableFile` or return the facts."""
    file_size = path.stat().st_size
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError, NotImplementedError) as e:
        raise _corrupt(f"{type(e).__name__}: {e}") from e
    with zf:
        infos = zf.infolist()
    declared = sum(i.file_size for i in infos)
    for i in infos:
        if i.file_size > _RATIO_FLOOR and i.file_size > limits.max_compression_ratio * max(i.compress_size, 1):
            raise _bomb(
                f"member {i.filename!r}: {i.file_size} bytes from {i.compress_size} "
                f"(ratio > {limits.max_compression_ratio})"
            )
    by_name = {i.filename: i for i in infos}
    facts = ZipFacts()
    budget = [limits.max_uncompressed_bytes]
    done: set[str] = set()

    with open(path, "rb") as f:

        def read_whole(name: str) -> bytes | None:
            info = by_name.get(name)
            if info is None:
                return None
            if info.file_size > _SMALL_XML_KEEP:
                raise UnreadableFile("not-a-spreadsheet", detail=f"{name!r} is implausibly large ({info.file_size} bytes)")
            parts: list[bytes] = []
            scanner = _Scanner(name)

            def sink(b: bytes) -> None:
                scanner.feed(b)
                parts.append(b)

            _inflate_member(f, info, file_size, budget, sink)
            done.add(name)
            return b"".join(parts)

        sheet_parts: dict[str, SheetPart] = {}
        if kind in ("xlsx", "xlsm"):
            facts.sheets = _ooxml_sheets(read_whole)
            if len(facts.sheets) > limits.max_sheets:
                raise UnreadableFile(
                    "too-many-sheets",
                    message=f"The workbook has {len(facts.sheets)} sheets but at most {limits.max_sheets} are allowed; "
                    "please delete the sheets that are not needed and re-send it.",
                    detail=f"{len(facts.sheets)} sheets in workbook.xml",
                )
            sheet_parts = {s.part: s for s in facts.sheets if s.part}
            # A sheet whose used range is too large gets that message, not "zip bomb", even
            # when it also makes the file too large once decompressed.
            for part, sheet in list(sheet_parts.items()):
                if part in by_name:
                    sheet_parts[part] = _check_dimension(
                        sheet, _peek(f, by_name[part], file_size), limits,
                        cells=lambda info=by_name[part]: _cell_extent(
                            f, info, file_size, declared, limits))
        if declared > limits.max_uncompressed_bytes:
            raise _bomb(f"declared uncompressed size {declared} > {limits.max_uncompressed_bytes}")
        # after the sheet count, so that 3000 sheets is reported as too many sheets
        if len(infos) > limits.max_zip_members:
            raise _bomb(f"{len(infos)} zip members > max_zip_members {limits.max_zip_members}")

        for info in infos:
            if info.filename in done or info.is_dir():
                continue
            sheet = sheet_parts.get(info.filename)
            # A <row> takes 5 bytes at least: a sheet smaller than that many rows' worth
            # cannot have too many, and its rows are not counted.
            scanner = _Scanner(info.filename, count_rows=sheet is not None
                               and info.file_size // 5 > limits.max_rows)
            # A sheet's chunks are kept whole when it is small enough to hand over, else its
            # head (for <dimension>).
            whole = info.file_size <= _HANDED_OVER_UP_TO
            chunks: list[bytes] = []
            kept = [0]

            def sink(b: bytes, scanner: _Scanner = scanner, chunks: list[bytes] = chunks,
                     kept: list[int] = kept, whole: bool = whole) -> None:
                scanner.feed(b)
                if whole:
                    chunks.append(b)
                elif kept[0] < _HEAD_KEEP:
                    chunks.append(b[: _HEAD_KEEP - kept[0]])
                    kept[0] += len(chunks[-1])

            _inflate_member(f, info, file_size, budget, sink if sheet is not None else scanner.feed)
            if sheet is not None:
                xml = b"".join(chunks)
                if scanner.has_formula:
                    facts.formula_parts.add(info.filename)
                    if whole:
                        facts.formula_xml[info.filename] = xml
                _check_dimension(sheet, xml[:_HEAD_KEEP], limits)
                _check_row_count(sheet, scanner.rows, limits)
    return facts


def _check_row_count(sheet: SheetPart, rows: int, limits: ReadLimits) -> None:
    if rows > limits.max_rows:
        raise UnreadableFile(
            "sheet-too-large",
            message=f"Sheet '{sheet.name}' has {rows:,} rows, most of them probably empty but formatted, and at most "
            f"{limits.max_rows:,} are allowed; please delete the unused rows below your data, save and re-send "
            "the file.",
            detail=f"{rows} <row> elements in {sheet.part}",
        )


def _peek(f: BinaryIO, info: zipfile.ZipInfo, file_size: int) -> bytes:
    """The first bytes of a member, inflated no further than that (for its <dimension>);
    b"" when they cannot be read: the full, counted inflation that follows says why."""
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED,
                                                          zipfile.ZIP_DEFLATED):
        return b""
    try:
        f.seek(info.header_offset)
        local = f.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            return b""
        name_len, extra_len = struct.unpack_from("<HH", local, 26)
        f.seek(info.header_offset + 30 + name_len + extra_len)
        remaining = min(info.compress_size, max(0, file_size - f.tell()))
        if info.compress_type == zipfile.ZIP_STORED:
            return f.read(min(remaining, _HEAD_KEEP))
        inflate = zlib.decompressobj(-15)
        head = b""
        data = b""
        while len(head) < _HEAD_KEEP and not inflate.eof:
            if not data:
                if remaining <= 0:
                    break
                data = f.read(min(_CHUNK, remaining))
                if not data:
                    break
                remaining -= len(data)
            # A step at a time, up to the start of <sheetData> (the <dimension> is before it):
            # the cells after it, most of a sheet, are not inflated twice.
            # A <sheetData cut by the last step starts at the last "<" inflated before it.
            since = max(0, head.rfind(b"<"))
            head += inflate.decompress(data, min(_PEEK_STEP, _HEAD_KEEP - len(head)))
            data = inflate.unconsumed_tail
            cells = _SHEETDATA_RE.search(head, since)
            if cells is not None and cells.end() < len(head):
                break  # (a match at the very end might be a longer name cut short)
        return head
    except (zlib.error, OSError, ValueError):
        return b""


def _check_dimension(sheet: SheetPart, head: bytes, limits: ReadLimits,
                     cells: Callable[[], _CellExtent | None] | None = None) -> SheetPart:
    """Refuse a sheet whose ``<dimension ref>`` (in ``head``) claims more rows or columns than
    the limits allow, unless ``cells`` finds its cells within them: LibreOffice, once a row is
    deleted, saves an empty ``<row r="1048576">`` and a dimension down to it. Returns the
    sheet, marked when its cells were found within the limits (checked no more)."""
    if sheet.cells_within_limits:
        return sheet
    sd = _SHEETDATA_RE.search(head)
    m = _DIMENSION_RE.search(head, 0, sd.start() if sd else len(head))
    if not m:
        return sheet
    ref = m.group(1).decode("ascii", errors="replace")
    last = ref.split(":")[-1]
    try:
        rows, cols = split_ref(last)
    except ValueError:
        return sheet  # a malformed dimension is not trusted either way; streaming checks still apply
    if rows > limits.max_rows or cols > limits.max_columns:
        extent = cells() if cells is not None else None
        if extent is not None and extent.within(limits):
            return replace(sheet, cells_within_limits=True)
        raise UnreadableFile(
            "sheet-too-large",
            message=f"Sheet '{sheet.name}' uses {rows:,} rows and {cols:,} columns (range {ref}) but at most "
            f"{limits.max_rows:,} rows and {limits.max_columns:,} columns are allowed; please delete unused rows "
            "and columns, save and re-send the file.",
            detail=f"<dimension ref={ref!r}> in {sheet.part}",
        )
    return sheet


def _rels_targets(data: bytes | None, base_dir: str) -> dict[str, tuple[str, str]]:
    """Relationship Id -> (type, resolved member name)."""
    if data is None:
        return {}
    root = DET.fromstring(data, forbid_dtd=True)
    out: dict[str, tuple[str, str]] = {}
    for rel in root:
        if rel.tag.rsplit("}", 1)[-1] != "Relationship" or rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target") or ""
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base_dir, target))
        out[rel.get("Id") or ""] = (rel.get("Type") or "", resolved)
    return out


def _ooxml_sheets(read_whole: Callable[[str], bytes | None]) -> list[SheetPart]:
    try:
        root_rels = _rels_targets(read_whole("_rels/.rels"), "")
        wb_part = next((t for typ, t in root_rels.values() if typ.endswith(REL_OFFICE_DOC)), "xl/workbook.xml")
        wb_xml = read_whole(wb_part)
        if wb_xml is None:
            raise UnreadableFile("not-a-spreadsheet", detail=f"workbook part {wb_part!r} missing")
        wb_dir = posixpath.dirname(wb_part)
        rels = _rels_targets(read_whole(posixpath.join(wb_dir, "_rels", posixpath.basename(wb_part) + ".rels")), wb_dir)
        root = DET.fromstring(wb_xml, forbid_dtd=True)
    except UnreadableFile:
        raise
    except DET.DefusedXmlException as e:  # unreachable after the byte scan, kept as a second line
        raise UnreadableFile("xml-unsafe", detail=f"{type(e).__name__}: {e}") from e
    except DET.ParseError as e:
        raise UnreadableFile("not-a-spreadsheet", detail=f"workbook XML does not parse: {e}") from e
    sheets: list[SheetPart] = []
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        rid = next((v for k, v in el.attrib.items() if k.rsplit("}", 1)[-1] == "id"), None)
        typ, part = rels.get(rid or "", ("", None))  # type: ignore[assignment]
        sheets.append(
            SheetPart(
                name=el.get("name") or "",
                state=el.get("state") or "visible",
                part=part,
                is_worksheet=typ.endswith("/worksheet") or not typ,
            )
        )
    return sheets
