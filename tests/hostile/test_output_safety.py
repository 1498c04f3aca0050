"""Output safety: names that a spreadsheet would run as formulas (``=HYPERLINK(...)``,
``+1+1``, ``-2+3``, ``@SUM(A1)``) or a browser as markup (``<script>``) come out as inert
text in every workbook the engine writes, and escaped in every HTML report.

The workbooks are checked in their XML, not through a library that might paper over it: every
cell holding a payload is a string cell (shared or inline string), no formula anywhere
mentions a payload, and neither do defined names or data-validation lists.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from defusedxml import ElementTree as ET
from sqlalchemy import select

from tests.client_import.filling import fill
from tests.hostile.conftest import HOSTILE_CENTER, HOSTILE_CLIENTS, HOSTILE_GROUP, PAYLOADS, World
from tests.returned.sheets import FILLED_HEADER
from workbook_engine.domain import Office
from workbook_engine.services.imports.client_import import generate_client_template
from workbook_engine.services.imports.excluded_rows import write_excluded_sheet
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission
from workbook_engine.workbooks.filling import fill_sheet

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
#: What would make a formula of a payload: its distinctive parts.
FORMULA_PARTS = ("HYPERLINK", "SUM(A1)", "1+1", "2+3", "script")
SCRIPT = "<script>alert(1)</script>"


def _text(element: Any) -> str:
    return "".join(t.text or "" for t in element.iter(f"{NS}t"))


def cells_with(path: Path, payloads: tuple[str, ...]) -> dict[str, list[tuple[str, str]]]:
    """Check a workbook's XML; return {payload: [(sheet part, cell ref)]} where it appears."""
    found: dict[str, list[tuple[str, str]]] = {p: [] for p in payloads}
    with zipfile.ZipFile(path) as book:
        names = book.namelist()
        shared = []
        if "xl/sharedStrings.xml" in names:
            shared = [_text(si) for si in ET.fromstring(book.read("xl/sharedStrings.xml"))
                      .iter(f"{NS}si")]
        workbook = book.read("xl/workbook.xml").decode()
        for defined in re.findall(r"<definedName[^>]*>(.*?)</definedName>", workbook):
            assert not any(part in defined for part in FORMULA_PARTS), defined
        for part in (n for n in names if n.startswith("xl/worksheets/sheet")):
            root = ET.fromstring(book.read(part))
            for formula in root.iter(f"{NS}formula1"):
                assert not any(p in (formula.text or "") for p in FORMULA_PARTS), formula.text
            for cell in root.iter(f"{NS}c"):
                kind = cell.get("t", "n")
                f = cell.find(f"{NS}f")
                if f is not None:
                    assert not any(p in (f.text or "") for p in FORMULA_PARTS), (part, f.text)
                if kind == "s":
                    value = shared[int(cell.find(f"{NS}v").text)]
                elif kind == "inlineStr":
                    value = _text(cell)
                else:
                    value = cell.findtext(f"{NS}v") or ""
                for payload in payloads:
                    if payload in value:
                        assert kind in ("s", "inlineStr") and f is None, (part, cell.attrib)
                        found[payload].append((part, cell.get("r")))
    return found


def assert_inert(path: Path, payloads: tuple[str, ...] = PAYLOADS) -> None:
    """Each payload is in the workbook, and only ever as text."""
    found = cells_with(path, payloads)
    assert all(found.values()), {p: w for p, w in found.items() if not w}


def assert_escaped(html: str, payloads: tuple[str, ...]) -> None:
    from markupsafe import escape

    assert SCRIPT not in html and "<script" not in html.lower()
    for payload in payloads:
        assert str(escape(payload)) in html, payload


def _hostile_filled(world: World, target: Path, **cells: Any) -> Path:
    sheet = world.hostile
    return fill_sheet(sheet.path, target, sheet.expected, header=FILLED_HEADER,
                      cells=cells.get("cells"))


def as_text(path: Path, texts: tuple[str, ...]) -> Path:
    """The workbook with the cells holding ``texts`` typed as text: openpyxl stores a value
    starting with "=" as a formula; a name typed as '=1+1 in Excel, or imported from a CSV,
    is text."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" and cell.value in texts:
                    cell.data_type = "s"
    book.save(path)
    return path


def test_the_collection_sheet_writes_names_as_text(world: World) -> None:
    assert_inert(world.hostile.path)


def test_the_preview_report_and_the_excluded_rows_sheet_write_names_as_text(
        world: World) -> None:
    script_client = " ".join(HOSTILE_CLIENTS[2])
    other = " ".join(HOSTILE_CLIENTS[0])
    target = world.tmp / "hostile.xlsx"
    filled = _hostile_filled(world, target, cells={(script_client, "attendance"): "X",
                                                   (other, "deposit"): 100})
    result = process_file(world.ctx, filled, actor_id=None)
    assert [e["client"] for e in result.errors] == [script_client]
    assert_inert(result.report_xlsx)
    # the Errors sheet names the client, whose name begins with "=": still text
    found = cells_with(result.report_xlsx, (script_client,))
    assert any(cell[1].startswith("E") for cell in found[script_client])
    assert_escaped(result.report_html.read_text(encoding="utf-8"),
                   (HOSTILE_CENTER, script_client))
    view = approve_submission(world.ctx, submission_id=result.submission_id,
                              by="Grace Wambui", exclude_invalid=True,
                              write_excluded=write_excluded_sheet)
    assert view["status"] == "posted" and view["excluded_sheet"]
    assert_inert(Path(view["excluded_sheet"]), (HOSTILE_CENTER, script_client))


def test_the_client_import_template_and_its_report_write_names_as_text(
        world: World) -> None:
    with world.ctx.session_factory() as s:
        office = s.scalar(select(Office.id).where(Office.name == "Nairobi East"))
    template = generate_client_template(world.ctx, actor_id=None, office_id=office,
                                        legal_form="person", out_dir=world.tmp / "templates")
    # the office's groups are offered in the template's lookups
    assert_inert(template.path, (HOSTILE_GROUP,))
    first, last = HOSTILE_CLIENTS[2]
    clients = [{"row_key": "1", "office": "Nairobi East", "first_name": HOSTILE_CENTER,
                "last_name": "@SUM(A1)", "group": HOSTILE_GROUP, "mobile_no": "0711000001",
                "gender": "Female", "submitted_on": world.ctx.today(), "active": "No"},
               {"row_key": "2", "office": "Nairobi East", "first_name": first,
                "last_name": last, "gender": "Robot", "submitted_on": world.ctx.today(),
                "active": "No"}]
    filled = as_text(fill(template.path, world.tmp / "import.xlsx", clients),
                     (HOSTILE_CENTER, first))
    result = process_file(world.ctx, filled, actor_id=None)
    assert result.report_xlsx is not None, result.errors
    assert_inert(result.report_xlsx, (HOSTILE_CENTER, "@SUM(A1)", HOSTILE_GROUP, first, last))
    assert_escaped(result.report_html.read_text(encoding="utf-8"), (HOSTILE_CENTER, last))
