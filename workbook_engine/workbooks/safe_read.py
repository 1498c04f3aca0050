"""The one safe entry point through which the engine reads ANY user-supplied
spreadsheet file (xlsx, xlsm, ods, csv and, when allowed, xls).

Order of work (``read_workbook``):

1. In the parent, before any parsing: file size; format sniffed from the
   content (:func:`sniff_format`); for zip formats the central directory
   (member count, declared sizes, per-member ratio), then every member
   stream-inflated with counters (never more than declared, never more than
   the total limit, CRC checked) and scanned for ``<!DOCTYPE``/``<!ENTITY``;
   for xlsx/xlsm the sheet list from workbook.xml (defusedxml) and each
   sheet's ``<dimension ref>``.
2. The parse runs in a child process (fork when available) under
   ``RLIMIT_AS = limits.memory_bytes`` and a wall timeout; values come from
   python-calamine, formula texts from the sheets that contain ``<f>`` elements
   (their XML as step 1 inflated and checked it, handed to the child when a
   sheet is up to 4 MB; read from the file otherwise).  Row/column/cell-length
   limits are checked again while reading.

Values: text stays text exactly (no strip, "0712345678" stays a string);
numbers that are integral become ``int`` (xlsx stores every number as a
float, so 5 and 5.0 are indistinguishable), other numbers stay ``float``;
dates/times are ``date``/``datetime``/``time``; durations under a day become
``time``, longer ones a float number of days.  ``RawSheet.formulas`` (and
``RawCell.formula``) carry the formula WITH its leading ``'='`` (xlsx/xlsm only;
ods/xls give values only).  CSV cells are always text.  A sheet comes back column
by column (``RawSheet.column``), equal values of a column shared, with no object
per cell; ``RawSheet.cells`` builds one per cell on demand, for small sheets.

Error codes (``UnreadableFile.code``; stable, for programs and logs):

``file-empty``
    The file has 0 bytes.
``file-too-large``
    The file is bigger than ``max_file_bytes``.
``not-a-spreadsheet``
    Content is not a spreadsheet: text/PDF/image renamed .xlsx, a zip or OLE
    file of another kind (docx, doc), a CSV whose name claims a binary
    format, or a spreadsheet the reader rejects as malformed.
``zip-corrupt``
    The zip cannot be read: truncated, bad headers, CRC mismatch, a member
    shorter than declared, an unsupported compression method.
``zip-bomb``
    Declared or actual uncompressed size over ``max_uncompressed_bytes``, a
    member over ``max_compression_ratio``, more than ``max_zip_members``
    members, or a member inflating to more than its declared size.
``xml-unsafe``
    A member contains a DTD or entity declaration (XML bomb, XXE).
``encrypted``
    Password-protected OOXML (an OLE2 file with EncryptionInfo /
    EncryptedPackage streams), an encrypted zip member, or a password-protected
    xls/ods reported by the reader.
``format-not-accepted``
    A real spreadsheet of a format not in ``allow_formats`` (e.g. xls, xlsb).
``too-many-sheets``
    More sheets than ``max_sheets``.
``sheet-too-large``
    A sheet's used range exceeds ``max_rows``/``max_columns``: from
    ``<dimension ref>`` before parsing, and again while reading.
``cell-too-long``
    A cell's text (or formula) is longer than ``max_cell_chars``; the message
    names the sheet and cell, e.g. "Sheet 'Collection', cell D12".
``reader-crashed``
    The child process died (killed by a signal such as SIGABRT/SIGSEGV, or
    exited without an answer).
``reader-timeout``
    No answer within ``timeout_seconds``; the child was killed.
``reader-out-of-memory``
    MemoryError in the child, a native allocation failure under the memory
    limit, or the child killed by SIGKILL (the kernel's OOM killer).

CSV is accepted only when the file name ends in .csv, .tsv or .txt and the
content is text (UTF-8, UTF-16 with BOM, or Windows-1252); the delimiter is
sniffed among ``,`` ``;`` and tab.  Text whose name claims .xlsx/.xls/...
is ``not-a-spreadsheet``.  Problems with the path itself (missing file,
permissions) raise ``OSError`` as usual; they are not a property of the file.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from ._isolation import run_isolated, run_limited
from ._parse import ParseJob
from ._sniff import KINDS, Sniffed, sniff
from ._types import MESSAGES, RawCell, RawSheet, RawWorkbook, ReadLimits, UnreadableFile
from ._zipcheck import check_zip

__all__ = [
    "MESSAGES",
    "RawCell",
    "RawSheet",
    "RawWorkbook",
    "ReadLimits",
    "UnreadableFile",
    "read_workbook",
    "run_limited",
    "sniff_format",
    "ALL_FORMATS",
]

#: The formats :func:`read_workbook` can return.
ALL_FORMATS: tuple[str, ...] = ("xlsx", "xlsm", "ods", "csv", "xls")
_TEXT_SUFFIXES = (".csv", ".tsv", ".txt")


def sniff_format(path: Path) -> str:
    """Identify a file from its content (magic bytes, zip member names, OLE2
    directory), never from its extension.

    Returns one of: ``"xlsx"``, ``"xlsm"``, ``"xlsb"``, ``"ods"``, ``"xls"``,
    ``"csv"`` (text with a consistent ``,``/``;``/tab delimiter), ``"text"``
    (other plain text), ``"encrypted"`` (password-protected OOXML),
    ``"ole"`` (another OLE2 file, e.g. .doc), ``"zip"`` (another or damaged
    zip archive), ``"pdf"``, ``"empty"``, ``"unknown"`` (other binary).
    Reads at most the file's first 64 KiB and its zip/OLE directory.
    """
    kind = sniff(Path(path)).kind
    assert kind in KINDS
    return kind


def read_workbook(
    path: Path,
    limits: ReadLimits = ReadLimits(),
    *,
    allow_formats: Collection[str] = ALL_FORMATS,
    name: str | None = None,
) -> RawWorkbook:
    """Read a user-supplied spreadsheet safely and return its cell values.

    Raises :class:`UnreadableFile` (see the module docstring for the codes)
    for every problem caused by the file's content; never lets a hostile
    file crash, hang or exhaust the calling process. ``name`` is the name the
    file arrived under (messages and the suffix rules use it, and a CSV's sheet is
    named after it); by default the path's own name, which for an archived copy
    is only its content hash.
    """
    path = Path(path)
    shown = Path(name or path.name)
    size = path.stat().st_size
    if size == 0:
        raise UnreadableFile("file-empty", detail=str(path))
    if size > limits.max_file_bytes:
        raise UnreadableFile(
            "file-too-large",
            message=f"The file is {size / 2**20:.1f} MB but at most {limits.max_file_bytes / 2**20:.1f} MB is "
            "allowed; please remove unused sheets or rows, or split it into smaller workbooks, and re-send it.",
            detail=f"{size} bytes > {limits.max_file_bytes}",
        )
    try:
        sniffed = sniff(path)
    except OSError:
        raise
    except Exception as e:  # noqa: BLE001 - a sniffer bug must not take the engine down
        raise UnreadableFile("not-a-spreadsheet", detail=f"sniffing failed: {type(e).__name__}: {e}") from e
    fmt = _accepted_format(shown, sniffed, allow_formats)
    job = ParseJob(path=str(path), format=fmt, limits=limits, has_macros=fmt == "xlsm" or sniffed.has_vba)
    if fmt in ("xlsx", "xlsm", "ods"):
        try:
            facts = check_zip(path, limits, fmt)
        except UnreadableFile:
            raise
        except Exception as e:  # noqa: BLE001
            raise UnreadableFile("zip-corrupt", detail=f"pre-check failed: {type(e).__name__}: {e}") from e
        job.sheets = facts.sheets
        job.formula_parts = facts.formula_parts
        job.formula_xml = facts.formula_xml
    elif fmt == "csv":
        job.encoding = sniffed.encoding
        job.sheet_name = shown.stem
    return run_isolated(job)


def _accepted_format(path: Path, sniffed: Sniffed, allow_formats: Collection[str]) -> str:
    """The format to parse ``path`` (the name it arrived under) as, or a refusal."""
    kind = sniffed.kind
    if kind == "empty":
        raise UnreadableFile("file-empty", detail=str(path))
    if kind == "encrypted":
        raise UnreadableFile("encrypted", detail=sniffed.detail)
    if kind == "zip" and sniffed.zip_error:
        raise UnreadableFile("zip-corrupt", detail=sniffed.zip_error)
    if kind in ("csv", "text"):
        if path.suffix.lower() not in _TEXT_SUFFIXES:
            raise UnreadableFile(
                "not-a-spreadsheet",
                message=f"The file is named '{path.name}' but contains plain text, not an Excel workbook; please open "
                "it in Excel, save it as an Excel Workbook (.xlsx) and re-send it.",
                detail=f"sniffed {kind} ({sniffed.encoding}) with suffix {path.suffix!r}",
            )
        kind = "csv"
    if kind == "xlsb":
        raise UnreadableFile(
            "format-not-accepted",
            message="Excel Binary Workbooks (.xlsb) are not accepted; please save the workbook as an Excel Workbook "
            "(.xlsx) and re-send it.",
            detail="xlsb",
        )
    if kind not in ALL_FORMATS:
        raise UnreadableFile("not-a-spreadsheet", detail=f"sniffed {kind}: {sniffed.detail or ''}".strip())
    if kind not in allow_formats:
        label = {"xls": "Old-style Excel 97-2003 files (.xls)", "xlsm": "Macro-enabled workbooks (.xlsm)",
                 "ods": "OpenDocument spreadsheets (.ods)", "csv": "CSV text files (.csv)",
                 "xlsx": "Excel workbooks (.xlsx)"}[kind]
        raise UnreadableFile(
            "format-not-accepted",
            message=f"{label} are not accepted here; please save the workbook as an Excel Workbook (.xlsx) and "
            "re-send it.",
            detail=f"format {kind} not in {sorted(allow_formats)}",
        )
    return kind
