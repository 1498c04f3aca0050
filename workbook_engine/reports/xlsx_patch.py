"""Editing a returned .xlsx package in place, part by part, for the preview report.

Loading a whole workbook into openpyxl and saving it again costs about 100 ms for a 40-row
collection sheet (most of it in styles, merged cells and validations the report does not
touch). The report only needs a few edits, so this module makes them on the package's XML
text and copies every other part byte for byte (macros, validations, protection, defined
names and hidden rows stay exactly as the user returned them):

* cell styles: a copy of a cell's format with red text, or red text on a red fill, and
  back: the plain format of a cell marked in an earlier version of the report (the same
  format with the red text and fill taken off; ``styles.xml``: fonts, fills and ``cellXfs``
  are reused when an equal one exists, added otherwise);
* comments on the error cells (a comments part and its VML drawing; earlier comments of the
  engine are replaced, other people's are kept);
* whole sheets written anew with inline strings ("Errors", "Summary", the metadata sheet's
  rows), added when missing.

The edits are targeted regular expressions over well-formed XML that ``safe_read`` already
checked (no DTD, bounded sizes). A package they do not expect (strict OOXML, cells or rows
without their ``r`` address, UTF-16 parts, threaded comments...) raises
:class:`Unsupported`, and the caller falls back to openpyxl.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import posixpath
import re
import struct
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from html import escape, unescape
from pathlib import Path
from typing import Any

from workbook_engine.workbooks.declaration import column_letters
from workbook_engine.workbooks import ooxml
from workbook_engine.workbooks.ooxml import ZipMember
from workbook_engine.workbooks.print_setup import PrintSetup

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "[Content_Types].xml"
MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
AUTHOR = "workbook-engine"

_ATTR = re.compile(r'([\w:.-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CELL_REF = re.compile(r"([A-Z]+)([0-9]+)")
_EPOCH = dt.date(1899, 12, 30)  # day 0 of Excel's 1900 date system
# elements that come after <legacyDrawing> in CT_Worksheet
_AFTER_LEGACY = ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                 "webPublishItems", "tableParts", "extLst")


class Unsupported(Exception):
    """The package is not one these text edits can handle safely."""


def attrs(start_tag: str) -> dict[str, str]:
    """The attributes of an element's start tag, unescaped."""
    return {m.group(1): unescape(m.group(2) if m.group(2) is not None else m.group(3))
            for m in _ATTR.finditer(start_tag)}


@functools.lru_cache(maxsize=64)
def _attr_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf'(\s){re.escape(name)}\s*=\s*(?:"[^"]*"|\'[^\']*\')')


def set_attr(start_tag: str, name: str, value: str) -> str:
    """The start tag with attribute ``name`` set (replaced or added before the end)."""
    pattern = _attr_pattern(name)
    new = f'{name}="{escape(value, quote=True)}"'
    if pattern.search(start_tag):
        return pattern.sub(lambda m: m.group(1) + new, start_tag, count=1)
    end = -2 if start_tag.endswith("/>") else -1
    return f"{start_tag[:end]} {new}{start_tag[end:]}"


def text_xml(value: Any) -> str:
    """A value as XML text: escaped, characters XML cannot hold removed."""
    return escape(_BAD_XML_CHARS.sub("", str(value)), quote=False)


def column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def split_ref(ref: str) -> tuple[int, int]:
    """("D12") -> (row 12, column 4)."""
    m = _CELL_REF.fullmatch(ref.upper())
    if m is None:
        raise Unsupported(f"cell reference {ref!r}")
    return int(m.group(2)), column_number(m.group(1))


def _prefix(text: str, root: str) -> str:
    """The namespace prefix ("" or "x:") of the part's root element ``root``."""
    m = re.search(rf"<(\w+:)?{root}\b", text)
    if m is None:
        raise Unsupported(f"no <{root}> root element")
    prefix = m.group(1) or ""
    declared = re.search(rf'xmlns{":" + prefix[:-1] if prefix else ""}="([^"]*)"', text)
    if declared is None or declared.group(1) != MAIN:
        raise Unsupported(f"<{root}> is not in the transitional SpreadsheetML namespace")
    return prefix


def _rel_prefix(text: str) -> str:
    m = re.search(rf'xmlns:(\w+)="{re.escape(REL)}"', text)
    if m is None:
        raise Unsupported("no relationships namespace declared")
    return m.group(1)


class Package:
    """The parts of a zip package, edited as text and saved to a new file.

    A part is inflated only when it is read, and a part left as it is goes into the new
    file as it was stored (its compressed bytes copied, not inflated and deflated again):
    only the parts edited are compressed anew (:func:`write_zip`)."""

    def __init__(self, path: Path) -> None:
        self._blob = Path(path).read_bytes()
        with zipfile.ZipFile(io.BytesIO(self._blob)) as zf:
            infos = zf.infolist()
        #: every part by name: how it is stored in the source, or None for a part written anew
        self.parts: dict[str, zipfile.ZipInfo | None] = {i.filename: i for i in infos}
        self.order = list(self.parts)
        self._text: dict[str, str] = {}

    def data(self, name: str) -> bytes | None:
        """A part's bytes as stored in the source (inflated), None if there is no such part
        (or it was written anew: see :meth:`text`)."""
        info = self.parts.get(name)
        if info is None:
            return None
        raw = self._stored(info)
        if raw is None:
            with zipfile.ZipFile(io.BytesIO(self._blob)) as zf:
                return zf.read(info)
        data = zlib.decompress(raw, -15) if info.compress_type == zipfile.ZIP_DEFLATED \
            else raw
        if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
            raise zipfile.BadZipFile(f"bad CRC or size of {name}")
        return data

    def _stored(self, info: zipfile.ZipInfo) -> bytes | None:
        """A member's bytes as stored (stored or deflated, not encrypted), else None."""
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED,
                                                              zipfile.ZIP_DEFLATED):
            return None
        local = self._blob[info.header_offset:info.header_offset + 30]
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header of {info.filename}")
        name_len, extra_len = struct.unpack_from("<HH", local, 26)
        start = info.header_offset + 30 + name_len + extra_len
        raw = self._blob[start:start + info.compress_size]
        if len(raw) != info.compress_size:
            raise zipfile.BadZipFile(f"{info.filename} runs past the end of the file")
        return raw

    def text(self, name: str) -> str:
        if name not in self._text:
            data = self.data(name)
            if data is None:
                raise Unsupported(f"missing part {name}")
            if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b'encoding="UTF-16' in data[:100]:
                raise Unsupported(f"{name} is not UTF-8")
            self._text[name] = data.decode("utf-8-sig")
        return self._text[name]

    def set_text(self, name: str, text: str) -> None:
        if name not in self.parts:
            self.order.append(name)
        self._text[name] = text
        self.parts[name] = None

    def free_name(self, pattern: str) -> str:
        """The first part name ``pattern.format(n)`` (n = 1, 2...) not yet taken."""
        n = 1
        while pattern.format(n) in self.parts:
            n += 1
        return pattern.format(n)

    def rels_name(self, part: str) -> str:
        folder, name = posixpath.split(part)
        return posixpath.join(folder, "_rels", name + ".rels")

    def relationships(self, part: str) -> list[dict[str, str]]:
        """The relationships of a part, each with its resolved ``part`` name."""
        name = self.rels_name(part)
        if name not in self.parts:
            return []
        folder = posixpath.dirname(part)
        out = []
        for m in re.finditer(r"<(?:\w+:)?Relationship\b[^>]*>", self.text(name)):
            rel = attrs(m.group(0))
            target = rel.get("Target", "")
            if rel.get("TargetMode") != "External":
                rel["part"] = (target.lstrip("/") if target.startswith("/") else
                               posixpath.normpath(posixpath.join(folder, target)))
            out.append(rel)
        return out

    def add_relationship(self, part: str, rel_type: str, target_part: str) -> str:
        """Add a relationship from ``part`` to ``target_part``; returns its new id."""
        name = self.rels_name(part)
        if name not in self.parts:
            self.set_text(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                          f'<Relationships xmlns="{PKG_REL}"></Relationships>')
        text = self.text(name)
        taken = {rel.get("Id") for rel in self.relationships(part)}
        n = len(taken) + 1
        while f"rId{n}" in taken:
            n += 1
        target = posixpath.relpath(target_part, posixpath.dirname(part))
        element = f'<Relationship Id="rId{n}" Type="{rel_type}" Target="{escape(target)}"/>'
        end = re.search(r"</(?:\w+:)?Relationships>", text)
        if end is None:
            raise Unsupported(f"{name} has no </Relationships>")
        self.set_text(name, text[:end.start()] + element + text[end.start():])
        return f"rId{n}"

    def add_content_type(self, part: str, content_type: str) -> None:
        text = self.text(CONTENT_TYPES)
        if re.search(rf'PartName="/{re.escape(part)}"', text):
            return
        element = f'<Override PartName="/{escape(part)}" ContentType="{content_type}"/>'
        self._insert_content_type(text, element)

    def add_default_type(self, extension: str, content_type: str) -> None:
        text = self.text(CONTENT_TYPES)
        if re.search(rf'Extension="{re.escape(extension)}"', text, re.IGNORECASE):
            return
        self._insert_content_type(text, f'<Default Extension="{extension}" '
                                  f'ContentType="{content_type}"/>')

    def _insert_content_type(self, text: str, element: str) -> None:
        end = text.rfind("</Types>")
        if end < 0:
            raise Unsupported("[Content_Types].xml has no </Types>")
        self.set_text(CONTENT_TYPES, text[:end] + element + text[end:])

    def drop_macros(self) -> None:
        """Remove a macro-enabled workbook's VBA project (and its signature and data), their
        relationships and content types, and declare the workbook a plain .xlsx: the report
        never carries the sender's macros, and Excel refuses an .xlsx that says it has them."""
        vba = {n for n in self.parts if posixpath.basename(n).lower().startswith("vba")}
        if not vba and MACRO_MAIN not in self.text(CONTENT_TYPES):
            return
        for name in list(self.parts):
            if not name.endswith(".rels") or name in vba:
                continue
            text = self.text(name)
            kept = re.sub(r"<(?:\w+:)?Relationship\b[^>]*?Target=\"[^\"]*vba[^\"]*\"[^>]*/>",
                          "", text, flags=re.IGNORECASE)
            if kept != text:
                self.set_text(name, kept)
        for name in vba:
            self.order.remove(name)
            del self.parts[name]
            self._text.pop(name, None)
        types = re.sub(r'<Override\b[^>]*PartName="/[^"]*vba[^"]*"[^>]*/>', "",
                       self.text(CONTENT_TYPES), flags=re.IGNORECASE)
        types = re.sub(r'<Default\b[^>]*ContentType="application/vnd\.ms-office\.vbaProject"'
                       r'[^>]*/>', "", types)
        self.set_text(CONTENT_TYPES, types.replace(MACRO_MAIN, XLSX_MAIN))

    def save(self, target: Path) -> None:
        """Write the package: the parts edited compressed anew, the others as stored."""
        members: list[tuple[str, bytes, zipfile.ZipInfo | None]] = []
        for name in sorted(self.order, key=lambda n: n != CONTENT_TYPES):
            info = self.parts[name]
            raw = self._stored(info) if name not in self._text and info is not None else None
            if raw is not None and info is not None:
                members.append((name, raw, info))
            else:
                data = self._text[name].encode("utf-8") if name in self._text \
                    else self.data(name)
                members.append((name, data or b"", None))
        write_zip(target, members)


_DEFLATE_LEVEL = 1
_ZIP32_LIMIT = 0x7FFFFFFF


def write_zip(target: Path, members: Sequence[tuple[str, bytes, zipfile.ZipInfo | None]]
              ) -> None:
    """A zip file of ``members``: (name, bytes, None) deflated at level 1, as ``zipfile``
    writes them; (name, bytes as stored, their ZipInfo in the source) copied as stored, with
    the source's CRC, sizes, method, date and attributes. A package too large for the plain
    zip format is written by ``zipfile`` (ZIP64)."""
    now = time.localtime(time.time())[:6]
    made_by = (0 if sys.platform == "win32" else 3) << 8 | 20
    entries = [
        ZipMember(name.encode("utf-8"), zlib.crc32(data), len(data), _deflate(data),
                  date_time=now, made_by=made_by) if info is None else
        ZipMember(name.encode("utf-8"), info.CRC, info.file_size, data, info.compress_type,
                  info.flag_bits & 0x6, info.date_time, info.create_system << 8 | 20,
                  info.external_attr, info.internal_attr)
        for name, data, info in members]
    if len(entries) > 0xFFFF or sum(len(e.data) + 100 + len(e.name) for e in entries) \
            > _ZIP32_LIMIT or any(e.size > _ZIP32_LIMIT for e in entries):
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED,
                             compresslevel=_DEFLATE_LEVEL) as zf:
            for name, data, info in members:
                zf.writestr(name, data if info is None else _inflated(data, info))
        return
    ooxml.write_zip(target, entries)


def _deflate(data: bytes) -> bytes:
    """Raw deflate at level 1, with a window and memory no larger than the data needs: the
    same bytes as a full window for data of up to 4 KiB, and zlib's set-up of a full window
    costs more than compressing a small part (55 against 3 microseconds)."""
    bits = min(15, max(9, (len(data) - 1).bit_length()))
    compressor = zlib.compressobj(_DEFLATE_LEVEL, zlib.DEFLATED, -bits, max(1, bits - 7))
    return compressor.compress(data) + compressor.flush()


def _inflated(stored: bytes, info: zipfile.ZipInfo) -> bytes:
    return zlib.decompress(stored, -15) if info.compress_type == zipfile.ZIP_DEFLATED \
        else stored


class Styles:
    """The cell formats of ``styles.xml``, with marked (coloured text, solid fill) and plain
    variants of existing ones.

    A format, font or fill equal to an existing one is reused rather than added, so a
    report of a report does not pile up copies; formats are compared ignoring their
    ``apply*`` flags, fonts and fills by their content (LibreOffice writes the same font
    with other attributes than xlsxwriter or openpyxl, so the comparison is made within
    the file's own styles).
    """

    def __init__(self, package: Package, part: str) -> None:
        self.package, self.part = package, part
        self.text = package.text(part)
        parsed = _parse_styles(self.text)
        self.p = parsed.p
        self.fonts, self.fills, self.xfs = parsed.fonts, parsed.fills, parsed.xfs
        self._parsed = parsed
        self.added: dict[str, list[str]] = {"fonts": [], "fills": [], "cellXfs": []}
        self._variants: dict[tuple[int, bool], int] = {}
        self._plain: dict[tuple[int, str | None], int] = {}
        self._xf_keys: dict[str, int] | None = None
        self._fill_colors: dict[str, int] | None = None

    def _all(self, block: str) -> list[str]:
        existing = {"fonts": self.fonts, "fills": self.fills, "cellXfs": self.xfs}[block]
        return [*existing, *self.added[block]]

    def _add(self, block: str, element: str) -> int:
        index = len(self._all(block))
        self.added[block].append(element)
        return index

    def _xf(self, xf: int) -> tuple[str, str, dict[str, str]]:
        """The start tag of format ``xf`` (the first one if out of range), the rest of the
        element, and the start tag's attributes."""
        every = self._all("cellXfs")
        element = every[xf if xf < len(every) else 0]
        start = re.match(r"<[^>]*>", element)
        assert start is not None
        return start.group(0), element[start.end():], attrs(start.group(0))

    def _find_or_add_xf(self, tag: str, rest: str) -> int:
        """The index of a format equal to ``tag`` + ``rest`` (apply flags aside)."""
        if self._xf_keys is None:
            self._xf_keys = dict(self._parsed.xf_keys())
            for n, element in enumerate(self.added["cellXfs"], start=len(self.xfs)):
                start = re.match(r"<[^>]*>", element)
                assert start is not None
                self._xf_keys.setdefault(_xf_key(start.group(0), element[start.end():]), n)
        key = _xf_key(tag, rest)
        if key not in self._xf_keys:
            self._xf_keys[key] = self._add("cellXfs", tag + rest)
        return self._xf_keys[key]

    def _font(self, index: int) -> str:
        fonts = self._all("fonts")
        return fonts[index] if index < len(fonts) else f"<{self.p}font/>"

    def font_color(self, xf: int) -> str | None:
        """The RGB text colour of format ``xf`` (upper case, alpha dropped), if any."""
        font = int(self._xf(xf)[2].get("fontId", "0") or 0)
        return _rgb(re.search(r"<(?:\w+:)?color\b[^>]*>", self._font(font)))

    def fill_color(self, xf: int) -> str | None:
        """The colour of format ``xf``'s solid fill (upper case, alpha dropped), if any."""
        fills = self._all("fills")
        fill = int(self._xf(xf)[2].get("fillId", "0") or 0)
        return _solid_color(fills[fill]) if fill < len(fills) else None

    def marked(self, *, font_color: str, fill_color: str, mark_fill: str | None = None
               ) -> set[int]:
        """The formats with the marking text colour or a marking fill (the error fill
        ``fill_color``, or the ``mark_fill`` of a cell marked without an error)."""
        if not any(self.added.values()):
            return set(self._parsed.marked(font_color, fill_color, mark_fill))
        return _marked(self._all("fonts"), self._all("fills"), self._all("cellXfs"),
                       font_color, fill_color, mark_fill)

    def variant(self, xf: int, *, filled: bool, font_color: str, fill_color: str,
                mark_fill: str | None = None) -> int:
        """The index of a format like ``xf`` with coloured text and a solid fill:
        ``fill_color`` when ``filled`` (an error), else ``mark_fill`` if given (so that a
        marked cell shows even when it is empty)."""
        key = (xf, filled)
        if key in self._variants:
            return self._variants[key]
        tag, rest, a = self._xf(xf)
        font = int(a.get("fontId", "0") or 0)
        tag = set_attr(set_attr(tag, "fontId", str(self._colored_font(font, font_color))),
                       "applyFont", "1")
        fill = fill_color if filled else mark_fill
        if fill:
            tag = set_attr(set_attr(tag, "fillId", str(self._solid_fill(fill))),
                           "applyFill", "1")
        self._variants[key] = self._find_or_add_xf(tag, rest)
        return self._variants[key]

    def plain(self, xf: int, *, font_color: str, fill_color: str, normal_fill: str | None,
              mark_fill: str | None = None) -> int:
        """The index of a format like ``xf`` without the marks of :meth:`variant`: text in
        ``xf``'s colour ``font_color`` gets the colour of the same font elsewhere in the
        workbook (automatic if none), a solid ``fill_color`` fill becomes ``normal_fill``
        (a solid colour, or no fill). A format without those marks is returned as it is."""
        key = (xf, normal_fill)
        if key in self._plain:
            return self._plain[key]
        tag, rest, a = self._xf(xf)
        changed = False
        if self.font_color(xf) == font_color:
            font = self._uncolored_font(int(a.get("fontId", "0") or 0), font_color)
            tag, changed = set_attr(tag, "fontId", str(font)), True
        if self.fill_color(xf) in (fill_color, mark_fill):
            fill = self._solid_fill(normal_fill) if normal_fill else self._no_fill()
            tag, changed = set_attr(tag, "fillId", str(fill)), True
        self._plain[key] = self._find_or_add_xf(tag, rest) if changed else xf
        return self._plain[key]

    def _colored_font(self, font: int, color: str) -> int:
        """A font like ``font`` in ``color``: an equal one of the workbook, or a new one."""
        source = self._font(font)
        bare = _font_key(source)
        for n, other in enumerate(self._all("fonts")):
            if _font_key(other) == bare and _rgb(re.search(
                    r"<(?:\w+:)?color\b[^>]*>", other)) == color:
                return n
        return self._add("fonts", _with_color(source, self.p, color))

    def _uncolored_font(self, font: int, color: str) -> int:
        """A font like ``font`` but not in ``color``: the first such font of the workbook
        (the one the marked font was copied from), or a copy without a colour."""
        source = self._font(font)
        bare = _font_key(source)
        for n, other in enumerate(self._all("fonts")):
            if _font_key(other) == bare and _rgb(re.search(
                    r"<(?:\w+:)?color\b[^>]*>", other)) != color:
                return n
        return self._add("fonts", _without_color(source, self.p))

    def _solid_fill(self, color: str) -> int:
        color = color.lstrip("#").upper()
        if self._fill_colors is None:
            self._fill_colors = dict(self._parsed.fill_colors())
            for n, fill in enumerate(self.added["fills"], start=len(self.fills)):
                self._fill_colors.setdefault(_solid_color(fill) or "", n)
        if color not in self._fill_colors:
            p = self.p
            self._fill_colors[color] = self._add(
                "fills", f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor '
                f'rgb="FF{color}"/><{p}bgColor indexed="64"/></{p}patternFill></{p}fill>')
        return self._fill_colors[color]

    def _no_fill(self) -> int:
        for n, fill in enumerate(self._all("fills")):
            pattern = re.search(r"<(?:\w+:)?patternFill\b[^>]*>", fill)
            if pattern is not None and attrs(pattern.group(0)).get(
                    "patternType", "none") == "none" and "gradientFill" not in fill:
                return n
        p = self.p
        return self._add("fills", f'<{p}fill><{p}patternFill patternType="none"/></{p}fill>')

    def cell_format(self, *, bold: bool = False, wrap: bool = False, num_fmt: int = 0,
                    fill: str | None = None, right: bool = False) -> int:
        """The index of a plain format (the workbook's default font, made bold; wrapped text
        aligned to the top; a built-in number format such as 4, "#,##0.00"; a solid fill;
        aligned right, as a header over figures), reused when the workbook has it."""
        p = self.p
        font = 0
        if bold:
            base = self._font(0)
            bare = base if not base.endswith("/>") or f"</{p}font>" in base \
                else base[:-2] + f"></{p}font>"
            bolded = re.sub(rf"<{p}font\b[^>]*>", lambda m: m.group(0) + f"<{p}b/>", bare,
                            count=1) if f"<{p}b/>" not in bare else bare
            font = next((n for n, f in enumerate(self._all("fonts")) if f == bolded), None) \
                if bolded != base else 0
            if font is None:
                font = self._add("fonts", bolded)
        fill_id = self._solid_fill(fill) if fill else 0
        align = ('horizontal="right" ' if right else "") + \
            ('vertical="top" wrapText="1" ' if wrap else "")
        tag = (f'<{p}xf numFmtId="{num_fmt}" fontId="{font}" fillId="{fill_id}" '
               f'borderId="0" xfId="0" applyNumberFormat="1" applyFont="1" applyFill="1"'
               + (' applyAlignment="1">' if align else ">"))
        rest = (f"<{p}alignment {align}/></{p}xf>" if align else f"</{p}xf>")
        return self._find_or_add_xf(tag, rest)

    def save(self) -> None:
        text = self.text
        for block, items in (("fonts", self.fonts), ("fills", self.fills),
                             ("cellXfs", self.xfs)):
            added = self.added[block]
            if not added:
                continue
            m = re.search(rf"<{self.p}{block}\b[^>]*?(?:/>|>(.*?)</{self.p}{block}>)",
                          text, re.S)
            assert m is not None
            start = re.match(r"<[^>]*?(?=/?>)", m.group(0))
            assert start is not None
            opening = set_attr(start.group(0) + ">", "count", str(len(items) + len(added)))
            text = (text[:m.start()] + opening + "".join(items) + "".join(added)
                    + f"</{self.p}{block}>" + text[m.end():])
        self.package.set_text(self.part, text)


def _marked(fonts: Sequence[str], fills: Sequence[str], xfs: Sequence[str], font_color: str,
            fill_color: str, mark_fill: str | None) -> frozenset[int]:
    """The formats among ``xfs`` with the font colour or one of the fills given."""
    marked_fonts = {str(n) for n, font in enumerate(fonts)
                    if _rgb(re.search(r"<(?:\w+:)?color\b[^>]*>", font)) == font_color}
    marked_fills = {str(n) for n, fill in enumerate(fills)
                    if _solid_color(fill) in (fill_color, mark_fill)}
    if not marked_fonts and not marked_fills:
        return frozenset()
    found = set()
    for n, xf in enumerate(xfs):
        font = _FONT_ID.search(xf[:xf.find(">")])
        fill = _FILL_ID.search(xf[:xf.find(">")])
        if (font.group(1) if font else "0") in marked_fonts or \
                (fill.group(1) if fill else "0") in marked_fills:
            found.add(n)
    return frozenset(found)


class _ParsedStyles:
    """What :class:`Styles` reads from one ``styles.xml`` text, and what it derives from it
    alone, kept per process (:func:`_parse_styles`): the sheets the engine generates share
    their styles, so a report of one is made without parsing them again."""

    def __init__(self, text: str) -> None:
        self.p = _prefix(text, "styleSheet")
        self.fonts = self._items(text, "fonts", "font")
        self.fills = self._items(text, "fills", "fill")
        self.xfs = self._items(text, "cellXfs", "xf")
        self._xf_keys: dict[str, int] | None = None
        self._fill_colors: dict[str, int] | None = None
        self._marked: dict[tuple[str, str, str | None], frozenset[int]] = {}

    def _items(self, text: str, block: str, item: str) -> tuple[str, ...]:
        m = re.search(rf"<{self.p}{block}\b[^>]*?(?:/>|>(.*?)</{self.p}{block}>)", text, re.S)
        if m is None:
            raise Unsupported(f"styles.xml has no <{block}>")
        return tuple(re.findall(rf"<{self.p}{item}\b(?:[^>]*?/>|.*?</{self.p}{item}>)",
                                m.group(1) or "", re.S))

    def xf_keys(self) -> dict[str, int]:
        """Each format's comparison key -> the first format with it."""
        if self._xf_keys is None:
            keys: dict[str, int] = {}
            for n, element in enumerate(self.xfs):
                start = re.match(r"<[^>]*>", element)
                assert start is not None
                keys.setdefault(_xf_key(start.group(0), element[start.end():]), n)
            self._xf_keys = keys
        return self._xf_keys

    def fill_colors(self) -> dict[str, int]:
        """Each solid fill's colour ("" for the others) -> the first fill with it."""
        if self._fill_colors is None:
            colors: dict[str, int] = {}
            for n, fill in enumerate(self.fills):
                colors.setdefault(_solid_color(fill) or "", n)
            self._fill_colors = colors
        return self._fill_colors

    def marked(self, font_color: str, fill_color: str, mark_fill: str | None
               ) -> frozenset[int]:
        key = (font_color, fill_color, mark_fill)
        if key not in self._marked:
            self._marked[key] = _marked(self.fonts, self.fills, self.xfs, *key)
        return self._marked[key]


@functools.lru_cache(maxsize=16)
def _parse_styles(text: str) -> _ParsedStyles:
    return _ParsedStyles(text)


_BETWEEN_TAGS = re.compile(r">\s+<")
_APPLY = re.compile(r'\sapply\w+\s*=\s*(?:"[^"]*"|\'[^\']*\')')
_FONT_ID = re.compile(r'\sfontId\s*=\s*["\']([0-9]+)')
_FILL_ID = re.compile(r'\sfillId\s*=\s*["\']([0-9]+)')
_COLOR = re.compile(r"<(?:\w+:)?color\b(?:[^>]*?/>|.*?</(?:\w+:)?color>)", re.S)


def _rgb(color: re.Match[str] | None) -> str | None:
    """The RGB of a colour element (upper case, without its alpha byte), if it has one."""
    if color is None:
        return None
    rgb = attrs(color.group(0)).get("rgb")
    return rgb.upper()[-6:] if rgb else None


def _solid_color(fill: str) -> str | None:
    """The colour of a solid pattern fill, None for any other fill."""
    pattern = re.search(r"<(?:\w+:)?patternFill\b[^>]*>", fill)
    if pattern is None or attrs(pattern.group(0)).get("patternType") != "solid":
        return None
    return _rgb(re.search(r"<(?:\w+:)?fgColor\b[^>]*>", fill))


def _font_key(font: str) -> str:
    """A font's content without its colour, for comparing fonts."""
    return _BETWEEN_TAGS.sub("><", _COLOR.sub("", font)).replace(" />", "/>")


def _xf_key(tag: str, rest: str) -> str:
    """A cell format without its apply flags, for comparing formats of one file (a producer
    writes attributes in one order; :func:`set_attr` keeps the place of those it replaces)."""
    return _BETWEEN_TAGS.sub("><", _APPLY.sub("", tag) + rest).replace(" />", "/>")


def _without_color(font: str, p: str) -> str:
    """A <font> element without its colour (automatic text colour)."""
    return _COLOR.sub("", font)


def _with_color(font: str, p: str, color: str) -> str:
    """A <font> element with its colour replaced (CT_Font order: colour after size)."""
    if font.endswith("/>") and f"</{p}font>" not in font:
        font = font[:-2] + f"></{p}font>"
    font = re.sub(rf"<{p}color\b(?:[^>]*?/>|.*?</{p}color>)", "", font, flags=re.S)
    color_xml = f'<{p}color rgb="FF{color}"/>'
    size = re.search(rf"<{p}sz\b[^>]*/>", font)
    if size is not None:
        return font[:size.end()] + color_xml + font[size.end():]
    after = re.search(rf"<{p}(?:name|family|charset|scheme)\b", font)
    at = after.start() if after is not None else font.rindex(f"</{p}font>")
    return font[:at] + color_xml + font[at:]


class Workbook:
    """The workbook part: its sheets by name, and adding a sheet."""

    def __init__(self, package: Package) -> None:
        self.package = package
        office = next((r["part"] for r in package.relationships("")
                       if r.get("Type", "").endswith("/officeDocument") and "part" in r), None)
        if office is None:
            raise Unsupported("no officeDocument relationship")
        self.part = office
        text = package.text(office)
        self.p = _prefix(text, "workbook")
        self.r = _rel_prefix(text)
        rels = {r["Id"]: r for r in package.relationships(office)}
        self.sheets: dict[str, str] = {}
        for m in re.finditer(rf"<{self.p}sheet\b[^>]*>", text):
            a = attrs(m.group(0))
            rel = rels.get(a.get(f"{self.r}:id", ""))
            if rel is None or "part" not in rel:
                raise Unsupported(f"sheet {a.get('name')!r} has no part")
            self.sheets[a["name"]] = rel["part"]
        self.styles = next((r["part"] for r in rels.values()
                            if r.get("Type", "").endswith("/styles")), None)

    def sheet_index(self, name: str) -> int:
        """The 0-based position of a sheet (what a defined name's ``localSheetId`` is)."""
        return next(i for i, sheet in enumerate(self.sheets)
                    if sheet.casefold() == name.casefold())

    def set_defined_name(self, name: str, sheet: str, formula: str) -> None:
        """Define ``name`` (e.g. ``_xlnm.Print_Titles``) for one sheet, replacing it."""
        text = self.package.text(self.part)
        p, local = self.p, self.sheet_index(sheet)
        text = re.sub(rf'<{p}definedName\b(?=[^>]*\bname="{re.escape(name)}")'
                      rf'(?=[^>]*\blocalSheetId="{local}")[^>]*>.*?</{p}definedName>', "",
                      text, flags=re.S)
        element = (f'<{p}definedName name="{name}" localSheetId="{local}">'
                   f"{text_xml(formula)}</{p}definedName>")
        block = re.search(rf"<{p}definedNames\s*/>|</{p}definedNames>", text)
        if block is not None and block.group(0).endswith("/>"):
            text = (text[:block.start()] + f"<{p}definedNames>{element}</{p}definedNames>"
                    + text[block.end():])
        elif block is not None:
            text = text[:block.start()] + element + text[block.start():]
        else:
            after = max(text.find(f"</{p}sheets>") + len(f"</{p}sheets>"),
                        text.find(f"</{p}externalReferences>") + len(
                            f"</{p}externalReferences>"))
            if after < len(f"</{p}sheets>"):
                raise Unsupported("workbook.xml has no </sheets>")
            text = (text[:after] + f"<{p}definedNames>{element}</{p}definedNames>"
                    + text[after:])
        self.package.set_text(self.part, text)

    def sheet_part(self, name: str) -> str | None:
        """The part of the sheet named ``name`` (compared as Excel does, ignoring case)."""
        return next((part for sheet, part in self.sheets.items()
                     if sheet.casefold() == name.casefold()), None)

    def put_sheet(self, name: str, xml: str) -> None:
        """Write a sheet's XML, replacing the sheet of that name or adding it at the end."""
        part = self.sheet_part(name)
        if part is not None:
            self.package.set_text(part, xml)
            return
        part = self.package.free_name("xl/worksheets/sheet{}.xml")
        self.package.set_text(part, xml)
        self.package.add_content_type(part, CT_WORKSHEET)
        rid = self.package.add_relationship(self.part, f"{REL}/worksheet", part)
        text = self.package.text(self.part)
        ids = [int(v) for v in re.findall(rf'<{self.p}sheet\b[^>]*?\bsheetId="(\d+)"', text)]
        element = (f'<{self.p}sheet name="{escape(name)}" sheetId="{max(ids, default=0) + 1}" '
                   f'{self.r}:id="{rid}"/>')
        end = text.find(f"</{self.p}sheets>")
        if end < 0:
            raise Unsupported("workbook.xml has no </sheets>")
        self.package.set_text(self.part, text[:end] + element + text[end:])
        self.sheets[name] = part


def sheet_xml(rows: Iterable[Sequence[Any]], widths: Sequence[float] = (),
              keep_from: str | None = None, *, styles: Sequence[int | None] = (),
              header_style: int | None = None, heights: Sequence[float | None] = (),
              money_style: int | None = None, print_setup: PrintSetup | None = None,
              header_styles: Mapping[int, int] | None = None) -> str:
    """A worksheet of plain values (text as inline strings, numbers, Decimals included, as
    numbers).

    ``styles`` gives each column's cells a format (by column, 0-based), ``header_style``
    the first row's (``header_styles``: a column's own, 0-based, e.g. aligned right over its
    figures), ``money_style`` every Decimal's (an amount); ``heights`` each row's
    height in points (None: the default);
    ``print_setup`` how it prints (the caller defines its print titles in the workbook).
    With ``keep_from`` (an existing sheet's XML), only its ``<sheetData>`` is replaced, so
    its protection, columns and views are kept.
    """
    out = []
    count = 0
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row, start=1):
            ref = f"{column_letters(c)}{r}"
            style = (header_styles or {}).get(c - 1, header_style) \
                if r == 1 and header_style is not None else (
                    styles[c - 1] if c <= len(styles) else None)
            s = f' s="{style}"' if style else ""
            if value is None or value == "":
                if style and r == 1:
                    cells.append(f'<c r="{ref}"{s}/>')
                continue
            if isinstance(value, Decimal) and money_style is not None:
                s = f' s="{money_style}"'
            if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
                cells.append(f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">'
                             f"{text_xml(value)}</t></is></c>")
            else:
                cells.append(f'<c r="{ref}"{s}><v>{value}</v></c>')
        height = heights[r - 1] if r <= len(heights) else None
        ht = f' ht="{height:g}" customHeight="1"' if height else ""
        out.append(f'<row r="{r}"{ht}>{"".join(cells)}</row>')
        count = r
    data = "".join(out)
    if keep_from is not None:
        p = _prefix(keep_from, "worksheet")
        if p:
            data = re.sub(r"<(/?)(row|c|is|t|v)\b", rf"<\1{p}\2", data)
        m = re.search(rf"<{p}sheetData\b[^>]*?(?:/>|>.*?</{p}sheetData>)", keep_from, re.S)
        if m is None:
            raise Unsupported("sheet without <sheetData>")
        text = keep_from[:m.start()] + f"<{p}sheetData>{data}</{p}sheetData>" + \
            keep_from[m.end():]
        return re.sub(rf'(<{p}dimension\b[^>]*?\bref=")[^"]*"',
                      lambda d: f'{d.group(1)}A1:B{max(count, 1)}"', text, count=1)
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                   for i, w in enumerate(widths, start=1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
            + (PrintSetup.SHEET_PR if print_setup is not None else "")
            + (f"<cols>{cols}</cols>" if cols else "")
            + f"<sheetData>{data}</sheetData>"
            + (print_setup.xml(text_xml) if print_setup is not None else "")
            + "</worksheet>")


def restyle_cells(sheet: str, styles: Mapping[str, Callable[[int], int | None]]) -> str:
    """The sheet XML with each cell of ``styles`` (address -> function of the cell's current
    format index) given the format the function returns (None: the cell is left as it is);
    cells missing from the XML (blank and unformatted) are added when given a format."""
    p = _prefix(sheet, "worksheet")
    content = _content(sheet, p, "sheetData")
    if content is None:
        raise Unsupported("sheet without <sheetData>")
    start, end = content
    known = _restyle_present(sheet[start:end], p, styles)
    if known is not None:
        return sheet[:start] + known + sheet[end:]
    m = re.search(rf"<{p}sheetData\b[^>]*?(?:/>|>(.*?)</{p}sheetData>)", sheet, re.S)
    assert m is not None
    wanted: dict[int, dict[int, str]] = {}
    for address in styles:
        r, c = split_ref(address)
        wanted.setdefault(r, {})[c] = address
    rows: list[tuple[int, str]] = []
    for row in re.finditer(rf"<{p}row\b([^>]*?)(?:/>|>(.*?)</{p}row>)", m.group(1) or "",
                           re.S):
        number = attrs(row.group(1)).get("r")
        if number is None:
            raise Unsupported("row without its r attribute")
        r = int(number)
        if r not in wanted:
            rows.append((r, row.group(0)))
            continue
        rows.append((r, _restyle_row(row, p, r, wanted.pop(r), styles)))
    for r, columns in wanted.items():  # rows the producer left out (all blank)
        xml = _restyle_row(None, p, r, columns, styles)
        if f"<{p}c " in xml:
            rows.append((r, xml))
    rows.sort(key=lambda item: item[0])
    data = f"<{p}sheetData>" + "".join(x for _, x in rows) + f"</{p}sheetData>"
    return sheet[:m.start()] + data + sheet[m.end():]


def _content(text: str, p: str, element: str) -> tuple[int, int] | None:
    """Where the content of the first ``<element>`` of ``text`` starts and ends (an empty
    range for ``<element/>``), or None when there is none: what
    ``<element\\b[^>]*?(?:/>|>(.*?)</element>)`` finds, without a lazy scan of the text."""
    start = re.search(rf"<{p}{element}\b[^>]*?(/?)>", text)
    if start is None:
        return None
    if start.group(1):
        return start.end(), start.end()
    end = text.find(f"</{p}{element}>", start.end())
    if end < 0:
        return None
    return start.end(), end


_STYLE_ATTR = re.compile(r'\ss="([0-9]*)"')


def _ref_order(address: str) -> tuple[int, int, str]:
    """A cell's place in a sheet's XML: by row, then column ("Z" before "AA")."""
    letters = address.rstrip("0123456789")
    digits = address[len(letters):]
    return (int(digits) if digits else 0, len(letters), letters)


def _restyle_present(data: str, p: str, styles: Mapping[str, Callable[[int], int | None]]
                     ) -> str | None:
    """``<sheetData>``'s content with the cells of ``styles`` restyled where they are, when
    each of them is in the XML starting with its address (``<c r="D12"``, as every producer
    writes it; the common case: a writer of ours writes every input cell); None otherwise
    (the general way, row by row). The same XML as the general way: only the ``s`` attribute
    of the cells restyled changes, set as :func:`set_attr` sets it, and the style functions
    are called in the order of the cells in the sheet."""
    found: list[tuple[int, str]] = []
    at = 0
    for address in sorted(styles, key=_ref_order):  # in the sheet's order: one pass over it
        tag = f'<{p}c r="{address}"'
        at = data.find(tag, at)
        if at < 0:
            at = data.find(tag)
            if at < 0:
                return None
        found.append((at, address))
    found.sort()
    out: list[str] = []
    last = 0
    for at, address in found:
        end = data.find(">", at)
        if end < 0:
            return None
        tag = data[at:end + 1]
        s = _STYLE_ATTR.search(tag)
        if s is None and "s=" in tag:
            return None  # an s attribute written otherwise
        current = int(s.group(1) or 0) if s is not None else 0
        style = styles[address](current)
        if style is None or style == current:
            continue
        out.append(data[last:at])
        out.append(set_attr(tag, "s", str(style)))
        last = end + 1
    out.append(data[last:])
    return "".join(out)


def _restyle_row(row: re.Match[str] | None, p: str, r: int, columns: dict[int, str],
                 styles: Mapping[str, Callable[[int], int | None]]) -> str:
    start = f'<{p}row r="{r}">' if row is None else f"<{p}row{row.group(1)}>"
    row_style = int(attrs(start).get("s", "0") or 0) if row is not None else 0
    cells: list[tuple[int, str]] = []
    for cell in re.finditer(rf"<{p}c\b([^>]*?)(/>|>(.*?)</{p}c>)",
                            (row.group(2) or "") if row is not None else "", re.S):
        a = attrs(cell.group(1))
        if "r" not in a:
            raise Unsupported("cell without its r attribute")
        _, c = split_ref(a["r"])
        xml = cell.group(0)
        if c in columns:
            address = columns.pop(c)
            tag = f"<{p}c{cell.group(1)}{'/>' if cell.group(2) == '/>' else '>'}"
            current = int(a.get("s", "0") or 0)
            style = styles[address](current)
            if style is not None and style != current:
                xml = set_attr(tag, "s", str(style)) + xml[len(tag):]
        cells.append((c, xml))
    added = [(c, styles[address](row_style), address) for c, address in columns.items()]
    added = [(c, style, address) for c, style, address in added if style is not None]
    if added:  # cells added: the row's optional "spans" hint may no longer hold
        start = re.sub(r'\sspans="[^"]*"', "", start)
    for c, style, address in added:
        cells.append((c, f'<{p}c r="{address}" s="{style}"/>'))
    cells.sort(key=lambda item: item[0])
    return start + "".join(x for _, x in cells) + f"</{p}row>"


def comments_xml(comments: Sequence[tuple[str, str, str]]) -> str:
    """A comments part: (cell, author, text XML of the <text> element's content)."""
    authors = list(dict.fromkeys(author for _, author, _ in comments)) or [AUTHOR]
    items = "".join(f'<comment ref="{ref}" authorId="{authors.index(author)}"><text>{text}'
                    "</text></comment>" for ref, author, text in comments)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<comments xmlns="{MAIN}"><authors>'
            + "".join(f"<author>{text_xml(a)}</author>" for a in authors)
            + f"</authors><commentList>{items}</commentList></comments>")


def vml_xml(cells: Sequence[str], block: int) -> str:
    """The legacy drawing that shows the comments of ``cells`` (hidden until hovered)."""
    shapes = []
    for n, ref in enumerate(cells, start=1):
        r, c = split_ref(ref)
        r, c = r - 1, c - 1
        shapes.append(
            f'<v:shape id="_x0000_s{block * 1024 + n}" type="#_x0000_t202" '
            'style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:225pt;'
            'height:90pt;z-index:1;visibility:hidden" fillcolor="#ffffe1" '
            'o:insetmode="auto"><v:fill color2="#ffffe1"/>'
            '<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
            '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div>'
            '</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{c + 1}, 15, {r}, 2, {c + 4}, 15, {r + 5}, 16</x:Anchor>"
            f"<x:AutoFill>False</x:AutoFill><x:Row>{r}</x:Row><x:Column>{c}</x:Column>"
            "</x:ClientData></v:shape>")
    return ('<xml xmlns:v="urn:schemas-microsoft-com:vml" '
            'xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel">'
            f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{block}"/>'
            '</o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" '
            'o:spt="202" path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
            '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
            + "".join(shapes) + "</xml>")


def set_comments(package: Package, sheet_part: str, notes: Mapping[str, str],
                 ours: Callable[[str, str], bool] | None = None) -> None:
    """Give the sheet's cells these comments (address -> text); the engine's earlier comments
    are dropped, other authors' comments are kept.

    A comment is the engine's when its author is :data:`AUTHOR` or ``ours(author, text)``
    says so (LibreOffice saves every comment with a blank author).
    """
    rels = package.relationships(sheet_part)
    if any(r.get("Type", "").endswith(("/threadedComment", "/threadedComments"))
           for r in rels):
        raise Unsupported("threaded comments")
    old = next((r for r in rels if r.get("Type", "").endswith("/comments")), None)
    kept: list[tuple[str, str, str]] = []
    if old is not None:
        text = package.text(old["part"])
        p = _prefix(text, "comments")
        authors = [unescape(a) for a in re.findall(
            rf"<{p}author>(.*?)</{p}author>", text, re.S)]
        for m in re.finditer(rf'<{p}comment\b([^>]*)>\s*<{p}text>(.*?)</{p}text>', text, re.S):
            a = attrs(m.group(1))
            author = authors[int(a.get("authorId", "0"))] if authors else ""
            engine = author == AUTHOR or (ours is not None and ours(author, unescape(
                re.sub(r"<[^>]*>", "", m.group(2)))))
            if not engine and a.get("ref", "").upper() not in notes:
                body = m.group(2) if not p else m.group(2).replace(f"<{p}", "<").replace(
                    f"</{p}", "</")
                kept.append((a["ref"].upper(), author, body))
    ours = [(ref, AUTHOR, f'<t xml:space="preserve">{text_xml(note)}</t>')
            for ref, note in notes.items()]
    every = sorted(kept + ours, key=lambda x: split_ref(x[0]))
    if old is None and not every:
        return
    comments_part = old["part"] if old is not None else package.free_name(
        "xl/comments/comment{}.xml")
    package.set_text(comments_part, comments_xml(every))
    if old is None:
        package.add_content_type(comments_part, CT_COMMENTS)
        package.add_relationship(sheet_part, f"{REL}/comments", comments_part)
    vml = next((r for r in rels if r.get("Type", "").endswith("/vmlDrawing")), None)
    if vml is not None and old is None:
        raise Unsupported("a legacy drawing without comments (form controls?)")
    block = 1 + sum(1 for n in package.parts if n.endswith(".vml"))
    if vml is not None:
        package.set_text(vml["part"], vml_xml([ref for ref, _, _ in every], block))
        return
    vml_part = package.free_name("xl/drawings/vmlDrawing{}.vml")
    package.set_text(vml_part, vml_xml([ref for ref, _, _ in every], block))
    package.add_default_type("vml", CT_VML)
    rid = package.add_relationship(sheet_part, f"{REL}/vmlDrawing", vml_part)
    sheet = package.text(sheet_part)
    p = _prefix(sheet, "worksheet")
    r = _rel_prefix(sheet) if f'"{REL}"' in sheet else None
    if r is None:  # declare the relationships namespace on the root element
        r = "r"
        root = re.search(rf"<{p}worksheet\b", sheet)
        assert root is not None
        sheet = sheet[:root.end()] + f' xmlns:r="{REL}"' + sheet[root.end():]
    element = f'<{p}legacyDrawing {r}:id="{rid}"/>'
    grid_end = max(sheet.rfind(f"</{p}sheetData>"), 0)  # what follows comes after the cells
    after = _after_legacy(p).search(sheet, grid_end)
    at = after.start() if after is not None else sheet.rfind(f"</{p}worksheet>")
    package.set_text(sheet_part, sheet[:at] + element + sheet[at:])


@functools.lru_cache(maxsize=8)
def _after_legacy(p: str) -> re.Pattern[str]:
    """The first start tag of an element that comes after ``<legacyDrawing>`` (one pass over
    what follows the cells, which a sheet's data validations can make long)."""
    return re.compile(f"<{re.escape(p)}(?:" + "|".join(map(re.escape, _AFTER_LEGACY)) + ")")


def set_values(sheet: str, values: Mapping[str, Any]) -> str:
    """The sheet XML with the cells of ``values`` (address -> value) holding those values,
    each keeping its format: None blank, text as an inline string, numbers and Decimals as
    numbers, dates as their serial number, booleans as booleans. The cells must be in the
    XML already (a writer of ours writes every input cell)."""
    p = _prefix(sheet, "worksheet")
    wanted = {address.upper(): value for address, value in values.items()}

    def edit(cell: re.Match[str]) -> str:
        a = attrs(cell.group(1))
        address = a.get("r", "").upper()
        if address not in wanted:
            return cell.group(0)
        value = wanted.pop(address)
        style = f' s="{a["s"]}"' if a.get("s") else ""
        head = f'<{p}c r="{address}"{style}'
        if value is None or value == "":
            return head + "/>"
        if isinstance(value, bool):
            return f'{head} t="b"><{p}v>{int(value)}</{p}v></{p}c>'
        if isinstance(value, (int, float, Decimal)):
            return f"{head}><{p}v>{value}</{p}v></{p}c>"
        if hasattr(value, "isoformat"):
            day = value.date() if hasattr(value, "date") else value
            return f"{head}><{p}v>{(day - _EPOCH).days}</{p}v></{p}c>"
        return (f'{head} t="inlineStr"><{p}is><{p}t xml:space="preserve">{text_xml(value)}'
                f"</{p}t></{p}is></{p}c>")

    edited = re.sub(rf"<{p}c\b([^>]*?)(?:/>|>.*?</{p}c>)", edit, sheet, flags=re.S)
    if wanted:
        raise Unsupported(f"cells {sorted(wanted)[:5]} are not in the sheet")
    return edited
