"""Tests for workbook_engine.workbooks.safe_read.

Every file is generated here, in tmp_path; no binary fixtures.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from workbook_engine.workbooks import _isolation
from workbook_engine.workbooks.safe_read import (
    MESSAGES,
    RawWorkbook,
    ReadLimits,
    UnreadableFile,
    read_workbook,
    sniff_format,
)

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
XLSX_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_CT = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
ACTIONS = ("please", "re-send", "save", "delete", "remove", "open", "shorten", "copy")


# ----------------------------------------------------------------------------- helpers


def assert_unreadable(exc: pytest.ExceptionInfo[UnreadableFile], code: str) -> UnreadableFile:
    """The code, and a message that is one plain sentence telling the user what to do."""
    e = exc.value
    assert e.code == code, (e.code, e.detail)
    msg = e.message
    assert msg and msg[0].isupper() and msg.endswith("."), msg
    assert msg.count(". ") == 0 or "e.g." in msg, f"not one sentence: {msg}"
    assert any(w in msg.lower() for w in ACTIONS), f"no action for the user: {msg}"
    for jargon in ("Traceback", "Error", "zip", "XML", "DTD", "SIGABRT", "child"):
        assert jargon not in msg, f"technical word {jargon!r} in user message: {msg}"
    return e


def read_err(path: Path, code: str, limits: ReadLimits = ReadLimits(), **kw: object) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as exc:
        read_workbook(path, limits, **kw)  # type: ignore[arg-type]
    return assert_unreadable(exc, code)


def sheet_xml(rows_xml: str, dimension: str | None = None, doctype: str = "") -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{doctype}'
        f'<worksheet xmlns="{MAIN_NS}">{dim}<sheetData>{rows_xml}</sheetData></worksheet>'
    )


def write_package(
    path: Path,
    sheets: list[tuple[str, str]],
    *,
    content_type: str = XLSX_CT,
    extra: dict[str, bytes] | None = None,
    shared_strings: str | None = None,
) -> Path:
    """A minimal hand-written OOXML workbook: sheets is [(name, sheet xml)]."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    if shared_strings is not None:
        overrides += (
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        )
    ct = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{content_type}"/>{overrides}</Types>'
    )
    rels_ns = "http://schemas.openxmlformats.org/package/2006/relationships"
    od = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    root_rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{rels_ns}">'
        f'<Relationship Id="rId1" Type="{od}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    wb_sheets = "".join(
        f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>' for i, (name, _x) in enumerate(sheets, start=1)
    )
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="{od}">'
        f"<sheets>{wb_sheets}</sheets></workbook>"
    )
    wb_rels = "".join(
        f'<Relationship Id="rId{i}" Type="{od}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    if shared_strings is not None:
        wb_rels += f'<Relationship Id="rIdSST" Type="{od}/sharedStrings" Target="sharedStrings.xml"/>'
    wb_rels_xml = f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{rels_ns}">{wb_rels}</Relationships>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", ct)
        zf.writestr("_rels/.rels", root_rels)
        zf.writestr("xl/workbook.xml", workbook)
        zf.writestr("xl/_rels/workbook.xml.rels", wb_rels_xml)
        for i, (_name, xml) in enumerate(sheets, start=1):
            zf.writestr(f"xl/worksheets/sheet{i}.xml", xml)
        if shared_strings is not None:
            zf.writestr("xl/sharedStrings.xml", shared_strings)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def make_valid_xlsx(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Collection"
    ws.append(["Client", "Phone", "Amount", "Due", "Double"])
    ws.append(["Amina", "0712345678", 1500, date(2024, 3, 1), "=C2*2"])
    ws.append(["  Baraka ", "0722000111", 2500.5, datetime(2024, 3, 2, 9, 30), "=C3*2"])
    hidden = wb.create_sheet("Secret")
    hidden.sheet_state = "hidden"
    hidden["A1"] = "hidden value"
    wb.save(path)
    return path


def write_cfb(path: Path, streams: dict[str, bytes]) -> Path:
    """A minimal Compound File Binary (OLE2) file, version 3, 512-byte sectors.

    Streams are padded to >= 4096 bytes so that they live in normal sectors
    (no mini stream needed).
    """
    ssz, free, end, fatsect, nostream = 512, 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    data_sectors: list[bytes] = []
    fat: list[int] = [fatsect, end]  # sector 0: FAT, sector 1: directory
    entries: list[tuple[str, int, int, int]] = []  # name, type, start, size
    for name, payload in streams.items():
        payload = payload.ljust(4096, b"\0")
        n = -(-len(payload) // ssz)
        start = 2 + len(data_sectors)
        for k in range(n):
            data_sectors.append(payload[k * ssz : (k + 1) * ssz].ljust(ssz, b"\0"))
            fat.append(start + k + 1 if k < n - 1 else end)
        entries.append((name, 2, start, len(payload)))
    assert len(fat) <= ssz // 4
    fat += [free] * (ssz // 4 - len(fat))

    def dir_entry(name: str, typ: int, start: int, size: int, left: int, right: int, child: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        e = raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), typ, 1)
        e += struct.pack("<III", left, right, child) + b"\0" * 16 + b"\0" * 4 + b"\0" * 16
        e += struct.pack("<IQ", start, size)
        assert len(e) == 128
        return e

    dir_bytes = dir_entry("Root Entry", 5, end, 0, nostream, nostream, 1 if entries else nostream)
    for i, (name, typ, start, size) in enumerate(entries, start=1):
        right = i + 1 if i < len(entries) else nostream
        dir_bytes += dir_entry(name, typ, start, size, nostream, right, nostream)
    assert len(dir_bytes) <= ssz
    dir_bytes = dir_bytes.ljust(ssz, b"\0")
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
    header += struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
    header += struct.pack("<109I", 0, *([free] * 108))
    assert len(header) == 512
    path.write_bytes(header + struct.pack("<128I", *fat) + dir_bytes + b"".join(data_sectors))
    return path


def soffice() -> str | None:
    return shutil.which("soffice") or (("/usr/bin/soffice") if os.path.exists("/usr/bin/soffice") else None)


def convert_with_soffice(src: Path, fmt: str, tmp: Path) -> Path:
    exe = soffice()
    if exe is None:
        pytest.skip("LibreOffice (soffice) is not installed, so no real .xls/.ods can be generated")
    out = tmp / "converted"
    out.mkdir(exist_ok=True)
    cmd = [exe, "--headless", f"-env:UserInstallation=file://{tmp}/lo-profile", "--convert-to", fmt,
           "--outdir", str(out), str(src)]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    except (subprocess.SubprocessError, OSError) as e:
        pytest.skip(f"soffice could not convert the file: {e}")
    result = out / (src.stem + "." + fmt)
    if not result.exists():
        pytest.skip("soffice produced no output file")
    return result


def vm_size_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize")


# ----------------------------------------------------------------------------- valid files


def test_valid_xlsx_values_formulas_dates_text(tmp_path: Path) -> None:
    path = make_valid_xlsx(tmp_path / "collection.xlsx")
    assert sniff_format(path) == "xlsx"
    wb = read_workbook(path)
    assert isinstance(wb, RawWorkbook)
    assert wb.format == "xlsx" and wb.has_macros is False
    assert [s.name for s in wb.sheets] == ["Collection", "Secret"]
    coll = wb.sheet("collection")
    assert coll is not None and coll.visible
    assert coll.value(2, 2) == "0712345678"  # leading zero text stays text
    assert coll.value(2, 3) == 1500 and type(coll.value(2, 3)) is int
    assert coll.value(3, 3) == 2500.5
    assert coll.value(2, 4) == date(2024, 3, 1) or coll.value(2, 4) == datetime(2024, 3, 1)
    assert coll.value(3, 4) == datetime(2024, 3, 2, 9, 30)
    assert coll.value(3, 1) == "  Baraka "  # never stripped
    assert coll.cells[(2, 5)].formula == "=C2*2"
    assert coll.cells[(3, 5)].formula == "=C3*2"
    assert coll.cells[(2, 1)].formula is None
    assert (coll.max_row, coll.max_column) == (3, 5)
    rows = dict(coll.rows())
    assert rows[1] == ["Client", "Phone", "Amount", "Due", "Double"]
    secret = wb.sheet("SECRET")
    assert secret is not None and secret.visible is False and secret.value(1, 1) == "hidden value"
    assert wb.sheet("nope") is None


def test_very_hidden_sheet_and_shared_formula(tmp_path: Path) -> None:
    rows = (
        '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f t="shared" ref="B1:B3" si="0">A1*10</f><v>10</v></c></row>'
        '<row r="2"><c r="A2"><v>2</v></c><c r="B2"><f t="shared" si="0"/><v>20</v></c></row>'
        '<row r="3"><c r="A3"><v>3.25</v></c><c r="B3"><f t="shared" si="0"/></c></row>'
    )
    path = write_package(tmp_path / "shared.xlsx", [("Data", sheet_xml(rows, "A1:B3"))])
    wb = read_workbook(path)
    s = wb.sheets[0]
    assert s.cells[(1, 2)].formula == "=A1*10"
    assert s.cells[(2, 2)].formula == "=A2*10"
    assert s.cells[(3, 2)] == s.cells[(3, 2)].__class__(3, 2, None, "=A3*10")  # formula without cached value
    assert s.value(2, 2) == 20 and s.value(3, 1) == 3.25


def test_columns_keep_types_share_equal_values_and_trim(tmp_path: Path) -> None:
    """The sheet comes back column by column: True, 1 and 1.5 in one column keep their
    types (they are equal as dict keys), equal texts are one object, empty cells are None,
    and trailing empty rows and columns are trimmed."""
    rows = (
        '<row r="1"><c r="A1" t="b"><v>1</v></c><c r="B1" t="inlineStr"><is><t>Nairobi</t></is></c></row>'
        '<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="inlineStr"><is><t>Nairobi</t></is></c></row>'
        '<row r="3"><c r="A3"><v>1.5</v></c><c r="B3" t="inlineStr"><is><t xml:space="preserve"> </t></is></c>'
        '<c r="D3" t="inlineStr"><is><t></t></is></c></row>'
        '<row r="4"><c r="C4" t="inlineStr"><is><t>0712</t></is></c></row>'
        '<row r="9"><c r="D9" t="inlineStr"><is><t></t></is></c></row>'
    )
    path = write_package(tmp_path / "mixed.xlsx", [("Data", sheet_xml(rows))])
    s = read_workbook(path).sheets[0]
    assert (s.max_row, s.max_column) == (4, 3)
    assert [type(v) for v in s.column(1)] == [bool, int, float, type(None)]
    assert s.column(1)[:3] == [True, 1, 1.5]
    assert s.column(2)[0] == "Nairobi" and s.column(2)[0] is s.column(2)[1]
    assert s.column(2)[2] == " " and s.value(4, 3) == "0712" and s.value(1, 3) is None
    assert s.column(7) == [None] * 4 and s.value(9, 4) is None
    assert [r for r, _ in s.rows()] == [1, 2, 3, 4]
    assert set(s.cells) == {(1, 1), (2, 1), (3, 1), (1, 2), (2, 2), (3, 2), (4, 3)}


def test_csv_is_read_column_by_column(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("name,mobile,city\nAmani,0712345678,Nairobi\nBaraka,,Nairobi\nChausiku\n")
    s = read_workbook(path).sheets[0]
    assert (s.max_row, s.max_column) == (4, 3)
    assert s.column(2) == ["mobile", "0712345678", None, None]
    assert s.value(4, 1) == "Chausiku" and s.value(4, 3) is None
    assert s.column(3)[1] is s.column(3)[2]


def test_xlsm_has_macros(tmp_path: Path) -> None:
    rows = f'<row r="1">{inline("A1", "macro book")}</row>'
    path = write_package(
        tmp_path / "book.xlsm",
        [("Sheet1", sheet_xml(rows, "A1"))],
        content_type=XLSM_CT,
        extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0not really vba"},
    )
    assert sniff_format(path) == "xlsm"
    wb = read_workbook(path)
    assert wb.format == "xlsm" and wb.has_macros is True
    assert wb.sheets[0].value(1, 1) == "macro book"


def test_csv_semicolon(tmp_path: Path) -> None:
    path = tmp_path / "collection.csv"
    path.write_text("Client;Phone;Amount\nAmina;0712345678;1,5\n Baraka ;0722;\n", encoding="utf-8")
    assert sniff_format(path) == "csv"
    wb = read_workbook(path)
    assert wb.format == "csv"
    s = wb.sheets[0]
    assert s.name == "collection"
    assert s.value(2, 2) == "0712345678" and s.value(2, 3) == "1,5" and s.value(3, 1) == " Baraka "
    assert s.value(3, 3) is None and (s.max_row, s.max_column) == (3, 3)


def test_csv_with_long_cell(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("a,b\nx," + "y" * 40_000 + "\n")
    e = read_err(path, "cell-too-long")
    assert "Sheet 'long', cell B2" in e.message


def test_ods_hand_built(tmp_path: Path) -> None:
    path = tmp_path / "book.ods"
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        "<office:body><office:spreadsheet>"
        '<table:table table:name="Collection"><table:table-row>'
        '<table:table-cell office:value-type="string"><text:p>0712345678</text:p></table:table-cell>'
        '<table:table-cell office:value-type="float" office:value="42"><text:p>42</text:p></table:table-cell>'
        '<table:table-cell office:value-type="date" office:date-value="2024-03-01"><text:p>01/03/24</text:p>'
        "</table:table-cell></table:table-row></table:table>"
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    assert sniff_format(path) == "ods"
    wb = read_workbook(path)
    assert wb.format == "ods"
    s = wb.sheet("Collection")
    assert s is not None
    assert s.value(1, 1) == "0712345678" and s.value(1, 2) == 42
    assert s.value(1, 3) in (date(2024, 3, 1), datetime(2024, 3, 1))


def test_xls_and_ods_from_libreoffice(tmp_path: Path) -> None:
    src = make_valid_xlsx(tmp_path / "lo.xlsx")
    xls = convert_with_soffice(src, "xls", tmp_path)
    assert sniff_format(xls) == "xls"
    wb = read_workbook(xls)
    assert wb.format == "xls"
    s = wb.sheet("Collection")
    assert s is not None and s.value(2, 2) == "0712345678" and s.value(2, 3) == 1500
    read_err(xls, "format-not-accepted", allow_formats=("xlsx", "xlsm", "ods", "csv"))
    ods = convert_with_soffice(src, "ods", tmp_path)
    assert sniff_format(ods) == "ods"
    wb = read_workbook(ods)
    s = wb.sheet("Collection")
    assert s is not None and s.value(2, 2) == "0712345678"
    assert wb.sheet("Secret") is not None and wb.sheet("Secret").visible is False  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- not spreadsheets


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert sniff_format(path) == "empty"
    read_err(path, "file-empty")


def test_file_too_large(tmp_path: Path) -> None:
    path = make_valid_xlsx(tmp_path / "big.xlsx")
    read_err(path, "file-too-large", ReadLimits(max_file_bytes=1000))


@pytest.mark.parametrize(
    "content",
    [
        b"Hello, this is the monthly report. Please find the numbers below.\n",
        b"Client,Amount\nAmina,1500\n",
        b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)),
    ],
    ids=["prose", "csv-renamed", "png"],
)
def test_text_or_image_renamed_xlsx(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "report.xlsx"
    path.write_bytes(content)
    read_err(path, "not-a-spreadsheet")


def test_pdf_renamed_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "statement.xlsx"
    path.write_bytes(
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    assert sniff_format(path) == "pdf"
    read_err(path, "not-a-spreadsheet")


def test_docx_like_zip_is_not_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    assert sniff_format(path) == "zip"
    read_err(path, "not-a-spreadsheet")


# ----------------------------------------------------------------------------- damaged / hostile zips


def test_truncated_zip(tmp_path: Path) -> None:
    good = make_valid_xlsx(tmp_path / "good.xlsx").read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(good[: len(good) // 2])
    read_err(path, "zip-corrupt")


def test_corrupted_member_data(tmp_path: Path) -> None:
    path = make_valid_xlsx(tmp_path / "flipped.xlsx")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 5, start + 25):
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))
    read_err(path, "zip-corrupt")


def _zeros_member(zf: zipfile.ZipFile, name: str, total: int) -> None:
    chunk = b"\0" * 2**20
    with zf.open(name, "w", force_zip64=True) as m:
        for _ in range(total // len(chunk)):
            m.write(chunk)


def test_zip_bomb_ratio(tmp_path: Path) -> None:
    path = make_valid_xlsx(tmp_path / "bomb.xlsx")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        _zeros_member(zf, "xl/media/zeros.bin", 64 * 2**20)  # ~64 KB compressed, ratio ~1000
    assert path.stat().st_size < 2**20
    read_err(path, "zip-bomb")


def test_zip_bomb_total_size(tmp_path: Path) -> None:
    path = make_valid_xlsx(tmp_path / "bomb.xlsx")
    read_err(path, "zip-bomb", ReadLimits(max_uncompressed_bytes=2000))


def test_zip_bomb_too_many_members(tmp_path: Path) -> None:
    path = make_valid_xlsx(tmp_path / "many.xlsx")
    with zipfile.ZipFile(path, "a") as zf:
        for i in range(30):
            zf.writestr(f"xl/junk/{i}.txt", "x")
    read_err(path, "zip-bomb", ReadLimits(max_zip_members=20))


def test_zip_central_directory_lies_about_size(tmp_path: Path) -> None:
    """Declared 1 000 bytes, really inflates to 8 MB: caught while inflating."""
    rows = f'<row r="1">{inline("A1", "ok")}</row>'
    padding = "<!-- " + " " * (8 * 2**20) + " -->"
    xml = sheet_xml(rows, "A1").replace("<sheetData>", padding + "<sheetData>")
    path = write_package(tmp_path / "liar.xlsx", [("Sheet1", xml)])
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name.decode())
    # local header: uncompressed size at +22; central directory entry: at +24
    struct.pack_into("<I", data, info.header_offset + 22, 1000)
    cd = data.rfind(b"PK\x01\x02", 0, len(data))
    while cd != -1:
        n = struct.unpack_from("<H", data, cd + 28)[0]
        if bytes(data[cd + 46 : cd + 46 + n]) == name:
            struct.pack_into("<I", data, cd + 24, 1000)
            break
        cd = data.rfind(b"PK\x01\x02", 0, cd)
    assert cd != -1
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo(name.decode()).file_size == 1000
    read_err(path, "zip-bomb")


def test_xml_bomb_billion_laughs(tmp_path: Path) -> None:
    ents = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    doctype = f"<!DOCTYPE worksheet [{ents}]>"
    rows = f'<row r="1">{inline("A1", "&lol9;")}</row>'
    path = write_package(tmp_path / "laughs.xlsx", [("Sheet1", sheet_xml(rows, "A1", doctype))])
    read_err(path, "xml-unsafe")


def test_xxe_never_leaks_passwd(tmp_path: Path) -> None:
    doctype = '<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    sst = (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1">'
        "<si><t>&xxe;</t></si></sst>"
    )
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    sheet = sheet_xml(rows, "A1", '<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>')
    path = write_package(tmp_path / "xxe.xlsx", [("Sheet1", sheet)], shared_strings=sst)
    e = read_err(path, "xml-unsafe")
    everything = f"{e} {e.message} {e.detail} {e.args!r}"
    assert "root:" not in everything and "/bin/" not in everything


def test_xml_unsafe_in_utf16_member(tmp_path: Path) -> None:
    sst = (
        f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE sst [<!ENTITY a "b">]><sst xmlns="{MAIN_NS}"><si><t>&a;</t>'
        "</si></sst>"
    ).encode("utf-16")
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    path = write_package(tmp_path / "u16.xlsx", [("Sheet1", sheet_xml(rows, "A1"))])
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("xl/sharedStrings.xml", sst)
    read_err(path, "xml-unsafe")


def test_encrypted_ooxml(tmp_path: Path) -> None:
    path = write_cfb(
        tmp_path / "locked.xlsx",
        {"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00", "EncryptedPackage": os.urandom(4096)},
    )
    assert sniff_format(path) == "encrypted"
    read_err(path, "encrypted")


def test_other_ole_file_is_not_a_spreadsheet(tmp_path: Path) -> None:
    path = write_cfb(tmp_path / "memo.xls", {"WordDocument": b"\xec\xa5" + b"\0" * 100})
    assert sniff_format(path) == "ole"
    read_err(path, "not-a-spreadsheet")


def test_xlsb_is_not_accepted(tmp_path: Path) -> None:
    path = write_package(
        tmp_path / "book.xlsb", [("S", sheet_xml("", "A1"))],
        content_type="application/vnd.ms-excel.sheet.binary.macroEnabled.main",
    )
    assert sniff_format(path) == "xlsb"
    read_err(path, "format-not-accepted")


def test_xlsx_not_in_allowed_formats(tmp_path: Path) -> None:
    path = make_valid_xlsx(tmp_path / "book.xlsx")
    read_err(path, "format-not-accepted", allow_formats=("csv",))


# ----------------------------------------------------------------------------- limits


def test_too_many_sheets_3000(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "sheets.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    for i in range(3000):
        wb.add_worksheet(f"S{i}").write(0, 0, i)
    wb.close()
    e = read_err(path, "too-many-sheets")
    assert "3000" in e.message


def test_dimension_claims_too_many_rows_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A dimension over the limits with a cell really out there is refused in the parent."""
    rows = f'<row r="1">{inline("A1", "x")}</row><row r="1048576">{inline("Z1048576", "y")}</row>'
    path = write_package(tmp_path / "tall.xlsx", [("Collection", sheet_xml(rows, "A1:Z1048576"))])

    def no_child(job: object) -> None:
        raise AssertionError("the child must not be started")

    monkeypatch.setattr("workbook_engine.workbooks.safe_read.run_isolated", no_child)
    e = read_err(path, "sheet-too-large")
    assert "Collection" in e.message


def test_libreoffice_empty_last_row_is_not_a_used_row(tmp_path: Path) -> None:
    """LibreOffice, after a row is deleted, saves an empty <row r="1048576"/> and a dimension
    down to it (A1:S1048576): the sheet has 3 rows of cells and is read, not refused."""
    rows = "".join(f'<row r="{r}">{inline(f"A{r}", f"v{r}")}</row>' for r in range(1, 4))
    rows += '<row r="1048576" customFormat="false" ht="12.8" hidden="false"></row>'
    path = write_package(tmp_path / "deleted-row.xlsx", [("Collection", sheet_xml(rows, "A1:S1048576"))])
    sheet = read_workbook(path).sheets[0]
    assert [sheet.value(r, 1) for r in (1, 2, 3)] == ["v1", "v2", "v3"]
    assert sheet.max_row == 3


def test_rows_over_limit_found_while_reading(tmp_path: Path) -> None:
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 31))
    path = write_package(tmp_path / "nodim.xlsx", [("Data", sheet_xml(rows))])  # no <dimension>
    read_err(path, "sheet-too-large", ReadLimits(max_rows=20))


def test_cell_at_xfd1048576_reaches_child_and_parent_survives(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active["XFD1048576"] = 1
    path = tmp_path / "corner.xlsx"
    wb.save(path)
    read_err(path, "sheet-too-large")  # default limits: caught by the dimension pre-check
    limits = ReadLimits(max_rows=2_000_000, max_columns=20_000, timeout_seconds=30)
    with pytest.raises(UnreadableFile) as exc:
        read_workbook(path, limits)
    assert exc.value.code in ("reader-crashed", "reader-out-of-memory")
    assert_unreadable(exc, exc.value.code)
    assert read_workbook(make_valid_xlsx(tmp_path / "after.xlsx")).sheets  # still alive and working


def test_cell_too_long_100k_chars(tmp_path: Path) -> None:
    rows = f'<row r="12">{inline("D12", "x" * 100_000)}</row>'
    path = write_package(tmp_path / "long.xlsx", [("Collection", sheet_xml(rows, "D12"))])
    e = read_err(path, "cell-too-long")
    assert "Sheet 'Collection', cell D12" in e.message


def test_reader_out_of_memory(tmp_path: Path) -> None:
    """Two cells at A1 and GR200000 are within the row/column limits but make
    the reader allocate a dense 200 000 x 200 grid (> 1 GB)."""
    rows = '<row r="1"><c r="A1"><v>1</v></c></row><row r="200000"><c r="GR200000"><v>2</v></c></row>'
    path = write_package(tmp_path / "sparse.xlsx", [("Data", sheet_xml(rows, "A1:GR200000"))])
    limits = ReadLimits(memory_bytes=vm_size_bytes() + 100 * 2**20)
    read_err(path, "reader-out-of-memory", limits)


def test_reader_out_of_memory_python_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def hog(job: object) -> None:
        _ = bytearray(4 * 2**30)

    monkeypatch.setattr(_isolation, "parse", hog)
    path = make_valid_xlsx(tmp_path / "ok.xlsx")
    read_err(path, "reader-out-of-memory", ReadLimits(memory_bytes=vm_size_bytes() + 200 * 2**20))


def test_reader_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(job: object) -> None:
        time.sleep(30)

    monkeypatch.setattr(_isolation, "parse", slow)
    path = make_valid_xlsx(tmp_path / "ok.xlsx")
    t0 = time.monotonic()
    read_err(path, "reader-timeout", ReadLimits(timeout_seconds=0.3))
    assert time.monotonic() - t0 < 5


def test_reader_timeout_real_parse(tmp_path: Path) -> None:
    rows = "".join(f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><v>{r}</v></c>' for c in "ABCDEFGHIJ") + "</row>"
                   for r in range(1, 20_001))
    path = write_package(tmp_path / "slowish.xlsx", [("Data", sheet_xml(rows, "A1:J20000"))])
    read_err(path, "reader-timeout", ReadLimits(timeout_seconds=0.001))


def test_reader_crash_by_signal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(job: object) -> None:
        os.abort()

    monkeypatch.setattr(_isolation, "parse", boom)
    path = make_valid_xlsx(tmp_path / "ok.xlsx")
    e = read_err(path, "reader-crashed")
    assert e.detail and "-6" in e.detail


# ----------------------------------------------------------------------------- API details


def test_limits_from_mapping() -> None:
    limits = ReadLimits.from_mapping({"max_rows": 10, "timeout_seconds": 2.5})
    assert limits.max_rows == 10 and limits.timeout_seconds == 2.5 and limits.max_sheets == 50
    with pytest.raises(ValueError, match="max_rowz"):
        ReadLimits.from_mapping({"max_rowz": 10})
    with pytest.raises(ValueError):
        ReadLimits.from_mapping({"max_rows": "ten"})
    with pytest.raises(ValueError):
        ReadLimits.from_mapping({"max_rows": -1})


def test_every_default_message_is_a_plain_sentence() -> None:
    for code, msg in MESSAGES.items():
        e = UnreadableFile(code)
        assert e.message == msg and e.detail is None
        assert msg[0].isupper() and msg.endswith(".") and "please" in msg, code
    with pytest.raises(ValueError):
        UnreadableFile("no-such-code")


def test_unreadable_file_pickles() -> None:
    import pickle

    e = pickle.loads(pickle.dumps(UnreadableFile("zip-bomb", detail="d")))
    assert (e.code, e.detail) == ("zip-bomb", "d")
