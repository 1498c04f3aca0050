"""Content-based format sniffing (magic bytes, zip member names, OLE2 directory).

Nothing here parses XML or cell data; every read is bounded.
"""

from __future__ import annotations

import codecs
import csv
import io
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
TEXT_SAMPLE = 64 * 1024
_CT_READ_LIMIT = 1 * 2**20

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

#: Values :func:`sniff` may return as ``Sniffed.kind``.
KINDS = ("xlsx", "xlsm", "xlsb", "ods", "xls", "csv", "text", "encrypted", "ole", "zip", "pdf", "empty", "unknown")


@dataclass(frozen=True)
class Sniffed:
    """Result of sniffing: ``kind`` (one of :data:`KINDS`) plus facts found on the way."""

    kind: str
    has_vba: bool = False  # an OOXML package containing vbaProject.bin
    zip_error: str | None = None  # a zip whose central directory cannot be read
    encoding: str | None = None  # for text: the encoding to decode with
    detail: str | None = None


def sniff(path: Path) -> Sniffed:
    """Identify a file from its content.  Never raises for bad content (only OSError)."""
    with open(path, "rb") as f:
        head = f.read(TEXT_SAMPLE)
    if not head:
        return Sniffed("empty")
    if head.startswith(ZIP_MAGICS):
        return _sniff_zip(path)
    if head.startswith(OLE_MAGIC):
        return _sniff_ole(path)
    if head.lstrip()[:5] == b"%PDF-" or head.startswith(b"%PDF"):
        return Sniffed("pdf")
    enc = _text_encoding(head)
    if enc is None:
        return Sniffed("unknown")
    text = head.decode(enc, errors="ignore")  # a sample; may end mid-character
    return Sniffed("csv" if _looks_delimited(text) else "text", encoding=enc)


# --------------------------------------------------------------------- zip


def _sniff_zip(path: Path) -> Sniffed:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            has_vba = any(n.lower().endswith("vbaproject.bin") for n in names)
            if "mimetype" in names:
                with zf.open("mimetype") as m:
                    mt = m.read(200).strip()
                if mt == ODS_MIMETYPE:
                    return Sniffed("ods")
                return Sniffed("zip", detail=f"mimetype {mt[:80]!r}")
            if "[Content_Types].xml" in names:
                with zf.open("[Content_Types].xml") as m:
                    ct = m.read(_CT_READ_LIMIT)
                if b"sheet.binary.macroEnabled.main" in ct:
                    return Sniffed("xlsb", has_vba=has_vba)
                if b"ms-excel.sheet.macroEnabled.main+xml" in ct or b"ms-excel.template.macroEnabled.main+xml" in ct:
                    return Sniffed("xlsm", has_vba=True)
                if b"spreadsheetml.sheet.main+xml" in ct or b"spreadsheetml.template.main+xml" in ct:
                    return Sniffed("xlsx", has_vba=has_vba)
                return Sniffed("zip", detail="OOXML package that is not a workbook")
            return Sniffed("zip", detail="zip archive without spreadsheet parts")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError, RuntimeError, OSError) as e:
        # OSError here is from seeking inside a damaged archive, not from opening the path.
        return Sniffed("zip", zip_error=f"{type(e).__name__}: {e}")


# --------------------------------------------------------------------- OLE2 / CFB

_FREESECT, _ENDOFCHAIN = 0xFFFFFFFF, 0xFFFFFFFE


def ole_stream_names(data: bytes) -> list[str]:
    """Names of the directory entries of a Compound File Binary (OLE2) image.

    A minimal, bounded reader: header, DIFAT (header part and chain), FAT and
    the directory chain.  Raises ValueError on anything inconsistent.
    """
    if len(data) < 512 or not data.startswith(OLE_MAGIC):
        raise ValueError("not an OLE2 file")
    sector_shift = struct.unpack_from("<H", data, 30)[0]
    if sector_shift not in (9, 12):
        raise ValueError(f"bad sector shift {sector_shift}")
    ssz = 1 << sector_shift
    n_fat, first_dir, first_difat, n_difat = (
        struct.unpack_from("<I", data, 44)[0],
        struct.unpack_from("<I", data, 48)[0],
        struct.unpack_from("<I", data, 68)[0],
        struct.unpack_from("<I", data, 72)[0],
    )
    max_sectors = (len(data) - ssz) // ssz + 1

    def sector(i: int) -> bytes:
        off = (i + 1) * ssz
        if i >= max_sectors or off + ssz > len(data) + ssz:  # last sector may be short
            raise ValueError(f"sector {i} out of range")
        return data[off : off + ssz]

    difat = [x for x in struct.unpack_from("<109I", data, 76)]
    seen = 0
    nxt = first_difat
    while nxt not in (_FREESECT, _ENDOFCHAIN) and seen <= n_difat and seen < max_sectors:
        s = sector(nxt)
        vals = struct.unpack(f"<{ssz // 4}I", s)
        difat.extend(vals[:-1])
        nxt = vals[-1]
        seen += 1
    fat_sectors = [x for x in difat if x not in (_FREESECT, _ENDOFCHAIN)][: max(n_fat, 0)]
    fat: list[int] = []
    for fs in fat_sectors:
        fat.extend(struct.unpack(f"<{ssz // 4}I", sector(fs)))
    names: list[str] = []
    cur, hops = first_dir, 0
    while cur not in (_FREESECT, _ENDOFCHAIN):
        if hops > max_sectors or cur >= len(fat):
            raise ValueError("directory chain loops or leaves the FAT")
        s = sector(cur)
        for off in range(0, len(s), 128):
            entry = s[off : off + 128]
            if len(entry) < 128:
                break
            name_len = struct.unpack_from("<H", entry, 64)[0]
            if entry[66] == 0 or not 2 <= name_len <= 64:
                continue
            names.append(entry[: name_len - 2].decode("utf-16-le", errors="replace"))
        cur = fat[cur]
        hops += 1
    return names


def _sniff_ole(path: Path) -> Sniffed:
    data = path.read_bytes()  # bounded: the caller checked the size first
    try:
        names = ole_stream_names(data)
    except (ValueError, struct.error) as e:
        return Sniffed("ole", detail=f"damaged OLE2 file: {e}")
    lower = {n.lower() for n in names}
    if "encryptedpackage" in lower or "encryptioninfo" in lower:
        return Sniffed("encrypted", detail="OLE2 with EncryptionInfo/EncryptedPackage (password-protected OOXML)")
    if "workbook" in lower or "book" in lower:
        return Sniffed("xls")
    return Sniffed("ole", detail=f"OLE2 streams: {sorted(names)[:10]}")


# --------------------------------------------------------------------- text


def _text_encoding(head: bytes) -> str | None:
    """Encoding to decode ``head`` with if it looks like text, else None."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            sample = head[: len(head) // 2 * 2].decode("utf-16")
        except UnicodeDecodeError:
            return None
        return "utf-16" if _printable(sample) else None
    if b"\x00" in head:
        return None
    try:
        sample = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8" if _printable(sample) else None
    except UnicodeDecodeError:
        pass
    try:
        sample = head.decode("cp1252")
    except UnicodeDecodeError:
        return None
    return "cp1252" if _printable(sample) else None


def _printable(text: str) -> bool:
    bad = sum(1 for ch in text if ch < " " and ch not in "\t\r\n\f")
    return bad == 0


def detect_delimiter(text: str) -> str:
    """Pick ',', ';' or tab: the one giving the most consistent multi-field rows."""
    lines = text.splitlines()[:50]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut the last line
    sample = "\n".join(lines)
    best, best_score = ",", (0, 0)
    for delim in (",", ";", "\t"):
        try:
            counts = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delim) if r]
        except csv.Error:
            continue
        if not counts:
            continue
        most = max(set(counts), key=counts.count)
        if most < 2:
            continue
        score = (counts.count(most), most)
        if score > best_score:
            best, best_score = delim, score
    return best


def _looks_delimited(text: str) -> bool:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return False
    delim = detect_delimiter(text)
    counts = [len(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=delim) if r]
    return bool(counts) and max(set(counts), key=counts.count) >= 2
