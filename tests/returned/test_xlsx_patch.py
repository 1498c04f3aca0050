"""The package edits behind the .xlsx report, on hand-written parts (what other producers write)."""

from __future__ import annotations

import re

import pytest

from workbook_engine.reports.xlsx_patch import MAIN, Unsupported, _with_color, restyle_cells

SHEET = (f'<?xml version="1.0"?><x:worksheet xmlns:x="{MAIN}"><x:sheetData>'
         '<x:row r="2" spans="1:3"><x:c r="A2" s="1" t="s"><x:v>0</x:v></x:c>'
         '<x:c r="C2"/></x:row>'
         '<x:row r="5"><x:c r="B5" s="2"><x:v>7</x:v></x:c></x:row>'
         "</x:sheetData></x:worksheet>")


def test_cells_are_restyled_added_in_order_and_rows_created():
    seen = []

    def red(xf):
        seen.append(xf)
        return 10 + xf

    out = restyle_cells(SHEET, {"A2": red, "B2": red, "B5": red, "D4": red})
    assert sorted(seen) == [0, 0, 1, 2]
    assert '<x:c r="A2" s="11" t="s"><x:v>0</x:v></x:c>' in out  # value kept
    row2 = re.search(r"<x:row r=\"2\"[^>]*>(.*?)</x:row>", out).group(0)
    assert "spans" not in row2  # a cell was added: the hint is dropped
    assert re.findall(r"<x:c r=\"(\w+)\"", row2) == ["A2", "B2", "C2"]
    assert out.index('<x:row r="4">') < out.index('<x:row r="5">')
    assert '<x:c r="B5" s="12"><x:v>7</x:v></x:c>' in out


def test_cells_without_their_address_are_left_to_openpyxl():
    sheet = SHEET.replace('<x:c r="C2"/>', "<x:c/>")
    with pytest.raises(Unsupported):
        restyle_cells(sheet, {"C2": lambda xf: xf})


@pytest.mark.parametrize("font,expected", [
    ('<font><b/><sz val="11"/><color theme="1"/><name val="Calibri"/></font>',
     '<font><b/><sz val="11"/><color rgb="FFC00000"/><name val="Calibri"/></font>'),
    ('<font><name val="Arial"/><family val="2"/></font>',
     '<font><color rgb="FFC00000"/><name val="Arial"/><family val="2"/></font>'),
    ("<font/>", '<font><color rgb="FFC00000"/></font>'),
])
def test_red_font_keeps_the_schema_order(font, expected):
    assert _with_color(font, "", "C00000") == expected


LO_STYLES = (
    f'<?xml version="1.0"?><styleSheet xmlns="{MAIN}"><fonts count="3">'
    '<font><sz val="11"/><color rgb="FF000000"/><name val="Calibri"/></font>'
    '<font><sz val="8"/><color rgb="FF808080"/><name val="Calibri"/></font>'
    '<font><sz val="11"/><color rgb="FFC00000"/><name val="Calibri"/></font></fonts>'
    '<fills count="4"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFFFF9DB"/>'
    '<bgColor rgb="FFF2F2F2"/></patternFill></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFFFC7CE"/>'
    '<bgColor rgb="FFFCE4D6"/></patternFill></fill></fills>'
    '<cellXfs count="3">'
    '<xf numFmtId="4" fontId="0" fillId="2" borderId="1" applyFont="true">'
    '<protection locked="false" hidden="false"/></xf>'
    '<xf numFmtId="4" fontId="2" fillId="3" borderId="1" applyFont="true" applyFill="1">'
    '<protection locked="false" hidden="false"/></xf>'
    '<xf numFmtId="4" fontId="2" fillId="2" borderId="1" applyFont="1">'
    '<protection locked="false" hidden="false"/></xf></cellXfs></styleSheet>')


def _styles(tmp_path, text=LO_STYLES):
    import zipfile

    from workbook_engine.reports.xlsx_patch import Package, Styles

    path = tmp_path / "styles.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/styles.xml", text)
    return Styles(Package(path), "xl/styles.xml")


def test_a_marked_format_is_made_plain_with_the_workbooks_own_parts(tmp_path):
    styles = _styles(tmp_path)
    colours = {"font_color": "C00000", "fill_color": "FFC7CE"}
    assert styles.marked(**colours) == {1, 2}
    # red text on a red fill -> the original format (same font but black, the input fill)
    assert styles.plain(1, normal_fill="FFF9DB", **colours) == 0
    assert styles.plain(2, normal_fill="FFF9DB", **colours) == 0
    assert styles.plain(0, normal_fill="FFF9DB", **colours) == 0  # nothing to take off
    # marking again reuses the formats already there
    assert styles.variant(0, filled=True, **colours) == 1
    assert styles.variant(0, filled=False, **colours) == 2
    assert styles.added == {"fonts": [], "fills": [], "cellXfs": []}
    # a fill the workbook lacks (solid grey) is added once
    grey = styles.plain(1, normal_fill="D9D9D9", **colours)
    assert grey == 3 and len(styles.added["fills"]) == 1
    assert 'fgColor rgb="FFD9D9D9"' in styles.added["fills"][0]
    assert styles.plain(1, normal_fill=None, **colours) == 4  # no fill: fill 0
    assert 'fillId="0"' in styles.added["cellXfs"][-1]


def test_a_red_font_without_a_plain_twin_loses_its_colour(tmp_path):
    text = LO_STYLES.replace('<font><sz val="11"/><color rgb="FF000000"/><name val="Calibri"/>'
                             "</font>", '<font><sz val="12"/><name val="Arial"/></font>')
    styles = _styles(tmp_path, text)
    plain = styles.plain(2, normal_fill="FFF9DB", font_color="C00000", fill_color="FFC7CE")
    assert plain == 3
    assert styles.added["fonts"] == ['<font><sz val="11"/><name val="Calibri"/></font>']


PRESENT = (f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><sheetData>'
           '<row r="2" spans="1:3"><c r="A2" s="1" t="s"><v>0</v></c><c r="B2"/>'
           '<c r="C2" t="n" s="4"><v>5</v></c></row>'
           '<row r="10"><c r="B10" s="2"><v>7</v></c><c r="AA10" s="3"/></row>'
           "</sheetData></worksheet>")


@pytest.mark.parametrize("sheet", [PRESENT, PRESENT.replace("<", "<x:").replace("<x:/", "</x:")
                                   .replace(f'xmlns="{MAIN}"', f'xmlns:x="{MAIN}"')
                                   .replace("<x:?xml", "<?xml")])
def test_cells_all_present_are_restyled_in_place_as_row_by_row(sheet, monkeypatch):
    """The cells found where they are (the common case) get what the row-by-row way gives,
    with the style functions called in the sheet's order (they add formats as they go)."""
    from workbook_engine.reports import xlsx_patch

    def styles(seen):
        def red(xf):
            seen.append(xf)
            return None if xf == 2 else 10 + xf
        return {"AA10": red, "C2": red, "B10": red, "B2": red, "A2": red}

    fast_seen, slow_seen = [], []
    fast = restyle_cells(sheet, styles(fast_seen))
    monkeypatch.setattr(xlsx_patch, "_restyle_present", lambda *args: None)
    slow = restyle_cells(sheet, styles(slow_seen))
    assert fast == slow and fast_seen == slow_seen == [1, 0, 4, 2, 3]
    assert 'r="B2" s="10"' in fast and 'r="B10" s="2"' in fast


def test_a_package_keeps_the_parts_it_does_not_edit_as_stored(tmp_path):
    """Unchanged parts are copied compressed as they were (not inflated and deflated
    again), edited ones written anew; the result is a sound zip with the same parts."""
    import zipfile

    from workbook_engine.reports.xlsx_patch import Package

    source, target = tmp_path / "in.xlsx", tmp_path / "out.xlsx"
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>", zipfile.ZIP_DEFLATED)
        zf.writestr("xl/theme/theme1.xml", "<theme>" + "x" * 5000 + "</theme>",
                    zipfile.ZIP_DEFLATED, compresslevel=9)
        zf.writestr("docProps/app.xml", "<app/>", zipfile.ZIP_STORED)
        zf.writestr("xl/workbook.xml", "<workbook/>", zipfile.ZIP_DEFLATED)
    package = Package(source)
    package.set_text("xl/workbook.xml", "<workbook>é</workbook>")
    package.set_text("xl/new.xml", "<new/>")
    package.save(target)
    with zipfile.ZipFile(source) as before, zipfile.ZipFile(target) as after:
        assert after.testzip() is None
        assert after.namelist() == ["[Content_Types].xml", "xl/theme/theme1.xml",
                                    "docProps/app.xml", "xl/workbook.xml", "xl/new.xml"]
        assert after.read("xl/workbook.xml").decode() == "<workbook>é</workbook>"
        for name in ("[Content_Types].xml", "xl/theme/theme1.xml", "docProps/app.xml"):
            old, new = before.getinfo(name), after.getinfo(name)
            assert after.read(name) == before.read(name)
            assert (new.compress_type, new.compress_size, new.CRC) == \
                (old.compress_type, old.compress_size, old.CRC)  # level 9 kept: not redone


@pytest.mark.parametrize("prefix", ["", "x:"])
def test_the_comments_drawing_goes_before_the_first_element_that_follows_it(tmp_path, prefix):
    """<legacyDrawing> is placed where CT_Worksheet wants it: after the cells and what comes
    between (data validations, which can be long), before the first of the elements that
    follow it, whichever that is."""
    import zipfile

    from workbook_engine.reports.xlsx_patch import CONTENT_TYPES, REL, Package, set_comments

    p = prefix
    ns = f'xmlns{":" + p[:-1] if p else ""}="{MAIN}" xmlns:r="{REL}"'
    validations = "".join(f'<{p}dataValidation sqref="A{n}"><{p}formula1>"P,A"</{p}formula1>'
                          f"</{p}dataValidation>" for n in range(1, 200))
    sheet = (f'<{p}worksheet {ns}><{p}sheetData><{p}row r="1"><{p}c r="A1"/></{p}row>'
             f'</{p}sheetData><{p}dataValidations>{validations}</{p}dataValidations>'
             f'<{p}picture r:id="rId9"/><{p}tableParts count="0"/><{p}extLst/></{p}worksheet>')
    source = tmp_path / "in.xlsx"
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr(CONTENT_TYPES, '<Types xmlns="x"></Types>')
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
    package = Package(source)
    set_comments(package, "xl/worksheets/sheet1.xml", {"A1": "wrong"})
    written = package.text("xl/worksheets/sheet1.xml")
    drawing = re.search(rf'<{p}legacyDrawing r:id="rId\d+"/>', written)
    assert drawing is not None
    assert written[drawing.end():].startswith(f'<{p}picture ')  # before the first follower
    assert written[:drawing.start()].endswith(f"</{p}dataValidations>")
