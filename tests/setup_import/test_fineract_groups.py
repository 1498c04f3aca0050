"""Mifos X / Fineract Centers and Groups workbooks, in their exact layout (the headers of
Fineract's CentersWorkbookPopulator / GroupsWorkbookPopulator, their lookup sheets and the
lookup columns far to the right of the data): active state, activation and submitted dates,
the meeting calendar, and a group's clients "in consecutive cells horizontally"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from tests.support.libreoffice import convert
from workbook_engine.domain import Center, Client, Group, GroupMembership
from workbook_engine.domain.calendar import is_meeting_date
from workbook_engine.services.clients.lifecycle import create_client
from workbook_engine.services.ledger.integrity import run_check
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission

_MEETING = ["Meeting Start Date* (On or After)", "Repeat*", "Frequency*", "Interval*",
            "Repeats On*"]
CENTER_HEADERS = ["Center Name*", "Office Name*", "Staff Name*", "External ID", "Active*",
                  "Activation Date*", "Submitted On Date", *_MEETING]
GROUP_HEADERS = ["Group Name*", "Office Name*", "Staff Name*", "Center Name", "External ID",
                 "Active*", "Activation Date*", "Submitted On Date *", *_MEETING]
# Where Fineract puts the list of groups (centers) or clients (groups), and its lookups.
CENTER_LIST_COL, GROUP_LIST_COL, LOOKUP_COL = 16, 17, 252
LOOKUPS = ["Office Name", "Opening Date", "Repeat Normal Range", "Repeat Monthly Range",
           "If Repeat Weekly Range"]
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def d(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _fineract_book(path: Path, sheet: str, headers: list[str], list_col: int,
                   list_header: str, rows: list[tuple[list[Any], list[str]]],
                   lookup_sheets: dict[str, list[str]]) -> Path:
    """A workbook as Fineract hands it out: the data sheet (each row: its cells, then the
    list written across from ``list_col``), its lookup columns at IR.., its lookup sheets."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for col, header in enumerate(headers, 1):
        ws.cell(1, col, header)
    ws.cell(1, list_col, list_header)
    for col, header in enumerate(LOOKUPS, LOOKUP_COL):
        ws.cell(1, col, header)
    for i in range(1, 12):  # the lookup values sit on the data rows, far to the right
        ws.cell(i + 1, LOOKUP_COL + 3, i)
        if i <= 3:
            ws.cell(i + 1, LOOKUP_COL + 2, i)
        if i <= 7:
            ws.cell(i + 1, LOOKUP_COL + 4, WEEKDAYS[i - 1])
    for i, office in enumerate(("Head Office", "Nairobi East", "Kisumu"), 2):
        ws.cell(i, LOOKUP_COL, office)
        ws.cell(i, LOOKUP_COL + 1, d("2020-01-01"))
    for r, (cells, listed) in enumerate(rows, 2):
        for col, value in enumerate(cells, 1):
            ws.cell(r, col, value)
        for col, value in enumerate(listed, list_col):
            ws.cell(r, col, value)
    for name, lookup_headers in lookup_sheets.items():
        book.create_sheet(name).append(lookup_headers)
    book.save(path)
    return path


def test_fineract_centers_with_their_meetings_and_activation(any_kilimani, tmp_path: Path
                                                              ) -> None:
    """On each database; `check` is clean after the approval."""
    ctx = any_kilimani.ctx
    book = _fineract_book(tmp_path / "Centers.xlsx", "Centers", CENTER_HEADERS,
                          CENTER_LIST_COL, "Group Names* (Enter in consecutive cells "
                          "horizontally)", [
        (["Mavuno", "Nairobi East", "Otieno Odhiambo", "F-C-1", "True", d("2026-01-13"),
          d("2026-01-10"), d("2026-01-13"), "True", "Weekly", 2, "Tue"], []),
        # No activation date: the submitted date; monthly on the start's day of month.
        (["Jua Kali", "Kisumu", "Mwangi Njoroge", "F-C-2", "True", None, d("2026-02-02"),
          d("2026-02-02"), "True", "Monthly", 1, None], []),
        # Not active, and meeting once: both said, on their cells.
        (["Dormant", "Kisumu", "Mwangi Njoroge", "F-C-3", "False", None, d("2026-02-02"),
          d("2026-02-02"), "False", "Weekly", 1, "Mon"], []),
        (["Kila Siku", "Kisumu", "Mwangi Njoroge", "F-C-4", "True", d("2026-02-02"), None,
          d("2026-02-02"), "True", "Daily", 1, None], [])],
        {"Offices": ["Office Name", "Office Id"], "Staff": ["Office Name", "Staff Name"],
         "Groups": ["Office Names", "Group Names", "Group ID"]})
    result = process_file(ctx, book, actor_id=None)
    assert result.status == "invalid", (result.message, result.errors)
    errors = {(e["row"], e["cell"]): e for e in result.errors}
    assert set(errors) == {(4, "E4"), (4, "I4"), (5, "J5")}, result.errors
    assert "not active in Mifos X" in errors[4, "E4"]["message"]
    assert "does not repeat" in errors[4, "I4"]["message"]
    assert "'Daily'" in errors[5, "J5"]["message"] and "Weekly, Monthly" in \
        errors[5, "J5"]["message"]
    approve_submission(ctx, submission_id=result.submission_id, by="Grace Wambui")
    with ctx.session_factory() as s:
        centers = {c.name: c for c in s.scalars(select(Center))}
        assert "Dormant" not in centers and "Kila Siku" not in centers
        mavuno, jua_kali = centers["Mavuno"], centers["Jua Kali"]
        assert (mavuno.staff.first_name, mavuno.external_id, mavuno.activation_date) == (
            "Otieno", "F-C-1", dt.date(2026, 1, 13))
        assert (mavuno.meeting_frequency, mavuno.meeting_interval, mavuno.meeting_weekday,
                mavuno.meeting_start_date) == ("weekly", 2, 1, dt.date(2026, 1, 13))
        assert jua_kali.activation_date == dt.date(2026, 2, 2)
        assert (jua_kali.meeting_frequency, jua_kali.meeting_weekday,
                jua_kali.meeting_week_of_month) == ("monthly", None, None)
        # Fortnightly on Tuesdays from 01-13: meets on 03-10, not on Kilimani's 03-03.
        assert is_meeting_date(mavuno.meeting_rule, dt.date(2026, 3, 10))
        assert not is_meeting_date(mavuno.meeting_rule, dt.date(2026, 3, 3))
        assert is_meeting_date(jua_kali.meeting_rule, dt.date(2026, 3, 2))
    assert run_check(ctx).ok


def _client(ctx, office_id: int, first: str, last: str, on: str) -> int:
    return create_client(ctx, actor_id=None, office_id=office_id, first_name=first,
                         last_name=last, submitted_on=dt.date.fromisoformat(on), active=True,
                         activation_date=dt.date.fromisoformat(on))


@pytest.mark.libreoffice
def test_fineract_groups_with_their_clients_across_the_row(any_kilimani, tmp_path: Path
                                                           ) -> None:
    """On each database; `check` is clean after each approval."""
    kilimani = any_kilimani
    ctx = kilimani.ctx
    nairobi = kilimani.ref.branches["Nairobi East"]
    neema = _client(ctx, nairobi, "Neema", "Achieng", "2026-02-10")
    zawadi = _client(ctx, nairobi, "Zawadi", "Moraa", "2026-01-05")
    rehema = _client(ctx, nairobi, "Rehema", "Wafula", "2026-01-05")
    saras = [_client(ctx, nairobi, "Sara", "Kiptoo", "2026-01-05") for _ in range(2)]
    weekly_mon = [d("2026-01-12"), "True", "Weekly", 1, "Mon"]
    book = _fineract_book(tmp_path / "Groups.xlsx", "Groups", GROUP_HEADERS, GROUP_LIST_COL,
                          "Client Names* (Enter in consecutive cells horizontally)", [
        # A group of a center meets with it: its own meeting columns are not used.
        (["Tumaini", "Nairobi East", "Wanjiru Kamau", "Kilimani", "F-G-1", "True",
          d("2026-02-03"), d("2026-02-01"), *weekly_mon],
         [f"Neema Achieng({neema + 500})", f"Zawadi Moraa({zawadi + 500})"]),
        (["Upendo Wamama", "Nairobi East", "Otieno Odhiambo", None, "F-G-2", "True",
          d("2026-01-12"), d("2026-01-12"), *weekly_mon], [f"Rehema Wafula({rehema + 500})"]),
        # One client unknown, one name two clients have: both named, the group not made.
        (["Shida", "Nairobi East", "Wanjiru Kamau", "Kilimani", "F-G-3", "True",
          d("2026-02-03"), None, None, None, None, None, None],
         ["Nobody Known(900)", "Sara Kiptoo(901)"])],
        {"Offices": ["Office Name", "Office Id"], "Staff": ["Office Name", "Staff Name"],
         "Centers": ["Office Names", "Center Names", "Center ID"],
         "Clients": ["Office Names", "Client Names", "Client ID"]})
    xls = convert(book, "xls", tmp_path)  # the .xls Mifos X hands out
    result = process_file(ctx, xls, actor_id=None)
    assert result.status == "invalid"
    shida = [e for e in result.errors if e["row"] == 4]
    assert {e["cell"] for e in shida} == {"Q4"} and len(shida) == 2, result.errors
    messages = " ".join(e["message"] for e in shida)
    assert "no client 'Nobody Known(900)' in office Nairobi East" in messages
    assert "Clients are loaded before groups" in messages
    assert "2 clients are called 'Sara Kiptoo(901)'" in messages
    assert all(f"Sara Kiptoo #{sara}" in messages for sara in saras)
    posted = approve_submission(ctx, submission_id=result.submission_id, by="Grace Wambui")
    assert run_check(ctx).ok
    with ctx.session_factory() as s:
        groups = {g.name: g for g in s.scalars(select(Group))}
        assert "Shida" not in groups
        tumaini, upendo = groups["Tumaini"], groups["Upendo Wamama"]
        assert (tumaini.center.name, tumaini.meeting_start_date, tumaini.activation_date) == (
            "Kilimani", None, dt.date(2026, 2, 3))
        assert (upendo.center_id, upendo.meeting_weekday, upendo.staff.first_name) == (
            None, 0, "Otieno")
        members = {(m.group_id, m.client_id): m.joined_on
                   for m in s.scalars(select(GroupMembership))}
        assert members[tumaini.id, neema] == dt.date(2026, 2, 10)  # joined when submitted
        assert members[tumaini.id, zawadi] == dt.date(2026, 2, 3)  # when the group began
        assert members[upendo.id, rehema] == dt.date(2026, 1, 12)
        assert not [k for k in members if k[1] in saras]

    # The report is a template of ours: its Members cell keeps the names for correcting;
    # sent back, the rows imported are skipped and the corrected one is posted.
    report = openpyxl.load_workbook(posted["report_xlsx"])
    ws = report["Groups"]
    keys = [c.value for c in ws[2]]
    row = next(r for r in ws.iter_rows(min_row=3) if r[keys.index("name")].value == "Shida")
    assert row[keys.index("members")].value == "Nobody Known(900); Sara Kiptoo(901)"
    row[keys.index("members")].value = f"Sara Kiptoo #{saras[1]}"
    fixed = tmp_path / "Groups-corrected.xlsx"
    report.save(fixed)
    again = process_file(ctx, fixed, actor_id=None)
    assert again.status == "awaiting_approval", again.errors
    assert "2 already imported" in again.message
    approve_submission(ctx, submission_id=again.submission_id, by="Grace Wambui")
    assert run_check(ctx).ok
    with ctx.session_factory() as s:
        shida_id = s.scalar(select(Group.id).where(Group.name == "Shida"))
        assert set(s.scalars(select(GroupMembership.client_id).where(
            GroupMembership.group_id == shida_id))) == {saras[1]}
        assert s.get(Client, saras[1]).display_name == "Sara Kiptoo"


def test_members_the_group_cannot_take_are_each_named(kilimani, tmp_path: Path) -> None:
    """Clients of another office: the service's refusal of each, on the Members cell, with
    the client's name; the group is not made."""
    ctx = kilimani.ctx
    kisumu = kilimani.ref.branches["Kisumu"]
    imani = _client(ctx, kisumu, "Imani", "Otieno", "2026-01-05")
    jabali = _client(ctx, kisumu, "Jabali", "Were", "2026-01-05")
    book = _fineract_book(tmp_path / "Groups.xlsx", "Groups", GROUP_HEADERS, GROUP_LIST_COL,
                          "Client Names* (Enter in consecutive cells horizontally)", [
        (["Tumaini", "Nairobi East", "Wanjiru Kamau", "Kilimani", None, "True",
          d("2026-02-03"), None, None, None, None, None, None],
         [f"Imani Otieno #{imani}", f"Jabali Were #{jabali}"])], {})
    result = process_file(ctx, book, actor_id=None)
    assert result.status == "invalid"
    assert [e["cell"] for e in result.errors] == ["Q2", "Q2"], result.errors
    for name in ("Imani Otieno", "Jabali Were"):
        assert any(f"{name} belongs to office 'Kisumu'" in e["message"]
                   for e in result.errors), name
    with ctx.session_factory() as s:
        assert s.scalar(select(Group).where(Group.name == "Tumaini")) is None


def test_the_data_import_tools_older_meeting_headers_are_read(kilimani, tmp_path: Path
                                                              ) -> None:
    """The data import tool's centers and groups workbooks of 2013 (openMF/DataImportTool
    03492fa, groups.xls) head the meeting columns "Repeats*" and "Every*", not "Frequency*"
    and "Interval*": "Repeats*" was not read, so a monthly center silently met weekly."""
    headers = [h.replace("Frequency*", "Repeats*").replace("Interval*", "Every*")
               for h in CENTER_HEADERS]
    book = _fineract_book(tmp_path / "Centers.xlsx", "Centers", headers, CENTER_LIST_COL,
                          "Group Names* (Enter in consecutive cells horizontally)", [
        (["Jua Kali", "Kisumu", "Mwangi Njoroge", "F-C-2", "True", d("2026-02-02"), None,
          d("2026-02-02"), "True", "Monthly", 2, None], [])],
        {"Offices": ["Office Name", "Office Id"], "Staff": ["Office Name", "Staff Name"]})
    result = process_file(kilimani.ctx, book, actor_id=None)
    assert result.status == "awaiting_approval", result.errors
    approve_submission(kilimani.ctx, submission_id=result.submission_id, by="Grace Wambui")
    with kilimani.ctx.session_factory() as s:
        center = s.scalar(select(Center).where(Center.name == "Jua Kali"))
        assert (center.meeting_frequency, center.meeting_interval) == ("monthly", 2)
