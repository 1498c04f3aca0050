"""Posting an approved client import on every database engine: the clients are inserted in
batches whose new ids must come back in row order (INSERT ... RETURNING), each with its family
members and addresses; then the posted report is sent again, its imported rows are skipped
and only the corrected row is posted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from sqlalchemy import func, select

from tests.client_import.filling import fill, keys_of, statuses
from workbook_engine.domain import Client, ClientImportRow
from workbook_engine.services.ledger.integrity import run_check
from workbook_engine.services.imports import client_import
from workbook_engine.services.imports.client_import import (
    ImportRules,
    generate_client_template,
    insert_clients,
)
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission

D = dt.date
OK = {"office": "Nairobi East", "active": "Yes", "submitted_on": D(2026, 3, 1),
      "activation_date": D(2026, 3, 2), "staff": "Wanjiru Kamau"}
ROWS = 20


def _clients() -> list[dict]:
    rows = [{"row_key": str(i), **OK, "first_name": f"Imani{i}", "last_name": f"Okello{i}",
             "mobile_no": f"07990{i:05d}", "external_id": f"DB-{i}",
             "gender": ("Female", "Male")[i % 2], "date_of_birth": D(1980 + i % 20, 1, 1)}
            for i in range(1, ROWS + 1)]
    rows.append({"row_key": str(ROWS + 1), **OK, "first_name": "Broken", "last_name": "Mobile",
                 "mobile_no": "12", "external_id": f"DB-{ROWS + 1}"})
    return rows


def test_post_and_reupload_on_each_database(any_kilimani, tmp_path: Path, monkeypatch) -> None:
    ctx = any_kilimani.ctx
    # Batches of 7: the 20 valid rows take three insert statements per table.
    monkeypatch.setattr(client_import, "import_rules", lambda _ctx: ImportRules(batch_size=7))
    template = generate_client_template(ctx, actor_id=None, office_id=2, legal_form="person",
                                        out_dir=tmp_path / "templates")
    family = [{"row_key": str(i), "first_name": f"Child{i}", "relationship": "Child"}
              for i in range(3, ROWS + 1, 3)]
    addresses = [{"row_key": str(i), "address_type": "Residence", "street": f"Street {i}",
                  "city": "Nairobi"} for i in range(2, ROWS + 1, 2)]
    filled = fill(template.path, tmp_path / "filled.xlsx", _clients(), family, addresses)
    result = process_file(ctx, filled, actor_id=None)
    assert result.status == "invalid" and {e["row_key"] for e in result.errors} == {"21"}

    view = approve_submission(ctx, submission_id=result.submission_id, by="Grace Wambui")
    assert view["status"] == "posted" and view["posting"]["imported"] == ROWS
    assert run_check(ctx).ok  # the books balance after a client import, on each database
    with ctx.session_factory() as s:
        ledger = {r.row_key: r.client_id for r in s.scalars(select(ClientImportRow))}
        assert set(ledger) == {str(i) for i in range(1, ROWS + 1)}
        for key, client_id in ledger.items():
            i = int(key)
            client = s.get(Client, client_id)
            # each row's id came back in its own place: its details, family and address
            assert (client.external_id, client.first_name) == (f"DB-{i}", f"Imani{i}")
            assert client.mobile_no == f"07990{i:05d}" and client.status.value == "active"
            assert [m.first_name for m in client.family_members] == (
                [f"Child{i}"] if i % 3 == 0 else [])
            assert [a.street for a in client.addresses] == (
                [f"Street {i}"] if i % 2 == 0 else [])
    posted = statuses(Path(view["report_xlsx"]))
    assert posted["5"] == f"Imported: client {ledger['5']}"
    assert posted["21"].startswith("Not imported")

    # the posted report comes back with row 21 corrected: only that row is imported
    book = openpyxl.load_workbook(view["report_xlsx"])
    ws = book["Clients"]
    row_21 = next(r for r in range(3, ws.max_row + 1) if str(ws.cell(r, 1).value) == "21")
    ws.cell(row_21, keys_of(ws)["mobile_no"], "0799000021")
    book.save(tmp_path / "fixed.xlsx")
    again = process_file(ctx, tmp_path / "fixed.xlsx", actor_id=None)
    assert again.status == "awaiting_approval" and again.error_count == 0, again.errors
    preview = statuses(Path(again.report_xlsx))
    assert preview["5"] == f"Already imported: client {ledger['5']}"
    view = approve_submission(ctx, submission_id=again.submission_id, by="Grace Wambui")
    assert view["posting"] == {**view["posting"], "imported": 1, "already": ROWS}
    assert run_check(ctx).ok
    with ctx.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Client)
                        .where(Client.external_id.like("DB-%"))) == ROWS + 1
        assert s.scalar(select(func.count()).select_from(ClientImportRow)) == ROWS + 1
        fixed = s.scalar(select(Client).where(Client.external_id == f"DB-{ROWS + 1}"))
        assert fixed.mobile_no == "0799000021"


def test_insert_clients_without_returning_reads_each_new_id(kilimani, monkeypatch) -> None:
    """A database without INSERT ... RETURNING (MySQL, MariaDB before 10.5): one insert per
    row, each reading its new id, still in row order."""
    from workbook_engine.domain.enums import ClientStatus, LegalForm

    with kilimani.ctx.unit_of_work(None) as uow:
        dialect = uow.session.get_bind().dialect
        monkeypatch.setattr(dialect, "insert_returning", False)
        rows = [{"office_id": 2, "legal_form": LegalForm.PERSON, "first_name": f"N{i}",
                 "last_name": "Row", "status": ClientStatus.PENDING,
                 "submitted_on": D(2026, 3, 1), "created_at": uow.now} for i in range(3)]
        ids = insert_clients(uow.session, rows)
        names = {c.id: c.first_name for c in uow.session.scalars(
            select(Client).where(Client.id.in_(ids)))}
        assert [names[i] for i in ids] == ["N0", "N1", "N2"] and ids == sorted(ids)
