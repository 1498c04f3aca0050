"""The engine's own zip writer (``ooxml.write_package``: static parts deflated once per
layout, copied into every package) writes the very bytes :mod:`zipfile` writes for the same
parts, so every reader that took the packages before takes them now."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from workbook_engine.workbooks.ooxml import COMPRESS_LEVEL, StaticParts, write_package


def _zipfile_package(static: StaticParts, parts: list[tuple[str, str]]) -> bytes:
    buffer = io.BytesIO()
    items = [("[Content_Types].xml", static.parts["[Content_Types].xml"]),
             *((name, xml.encode("utf-8")) for name, xml in parts),
             *((n, d) for n, d in static.parts.items() if n != "[Content_Types].xml")]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in items:
            package.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
    return buffer.getvalue()


def test_the_package_is_what_zipfile_writes(tmp_path: Path) -> None:
    static = StaticParts({"[Content_Types].xml": b"<Types/>" * 40,
                          "xl/styles.xml": b"<styleSheet>" + b"<xf/>" * 300 + b"</styleSheet>",
                          "_rels/.rels": b""}, {})
    parts = [("xl/worksheets/sheet1.xml", "<row>Wanjiku \u00e9\u20ac</row>" * 500),
             ("xl/sharedStrings.xml", ""), ("docProps/core.xml", "<c/>")]
    path = tmp_path / "book.xlsx"
    write_package(path, static, parts)
    written = path.read_bytes()
    assert written == _zipfile_package(static, parts)
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
        assert package.read("xl/worksheets/sheet1.xml").decode() == parts[0][1]
        assert package.namelist()[0] == "[Content_Types].xml"
    # A second package of the same layout copies the parts deflated the first time.
    write_package(path, static, parts[:1])
    assert path.read_bytes() == _zipfile_package(static, parts[:1])
