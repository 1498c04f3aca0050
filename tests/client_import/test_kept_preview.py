"""Approval of a client import takes the preview's validated rows when nothing validation
reads changed since the preview, and reads and validates the file again when something did
(a mobile number taken meanwhile), or when the kept result is missing or tampered with."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.client_import.filling import fill
from workbook_engine.domain import Client, Submission
from workbook_engine.services.clients.lifecycle import create_client
from workbook_engine.services.imports import client_import
from workbook_engine.services.imports.client_import import generate_client_template
from workbook_engine.services.imports.validated import kept_path
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission

D = dt.date
ROW = {"office": "Nairobi East", "active": "Yes", "submitted_on": D(2026, 3, 1),
       "activation_date": D(2026, 3, 2), "gender": "Female", "client_type": "Individual"}


@pytest.fixture
def previewed(kilimani, tmp_path: Path, monkeypatch) -> Any:
    """A previewed import of two valid clients; the archived file's reads are counted."""
    ctx = kilimani.ctx
    template = generate_client_template(ctx, actor_id=None, office_id=2, legal_form="person",
                                        out_dir=tmp_path / "templates")
    filled = fill(template.path, tmp_path / "two.xlsx", [
        {"row_key": "1", **ROW, "first_name": "Amina", "last_name": "One",
         "mobile_no": "0711000101"},
        {"row_key": "2", **ROW, "first_name": "Baraka", "last_name": "Two",
         "mobile_no": "0711000102"}])
    result = process_file(ctx, filled, actor_id=None)
    assert result.status == "awaiting_approval", result.errors
    reads: list[int] = []
    real = client_import.read_archived

    def counted(ctx_: Any, sub: Submission) -> Any:
        reads.append(sub.id)
        return real(ctx_, sub)

    monkeypatch.setattr(client_import, "read_archived", counted)
    with ctx.session_factory() as s:
        kept = kept_path(s.get(Submission, result.submission_id).archive_path,
                         result.submission_id)
    return ctx, result.submission_id, kept, reads


def _mobiles(ctx: Any) -> list[str]:
    with ctx.session_factory() as s:
        return sorted(s.scalars(select(Client.mobile_no).where(
            Client.mobile_no.in_(["0711000101", "0711000102"]))))


def test_approval_takes_the_preview_when_nothing_changed(previewed) -> None:
    ctx, submission_id, kept, reads = previewed
    assert kept.exists()
    view = approve_submission(ctx, submission_id=submission_id, by="Grace Wambui")
    assert view["status"] == "posted" and view["posting"]["imported"] == 2
    assert reads == []  # the archived workbook was not read again
    assert _mobiles(ctx) == ["0711000101", "0711000102"]
    assert not kept.exists()  # of no further use once posted


def test_a_mobile_taken_since_the_preview_is_refused_at_approval(previewed) -> None:
    ctx, submission_id, kept, reads = previewed
    create_client(ctx, actor_id=None, office_id=2, first_name="Meanwhile", last_name="Taken",
                  mobile_no="0711000101")
    view = approve_submission(ctx, submission_id=submission_id, by="Grace Wambui")
    assert reads == [submission_id]  # stale: read and validated again
    assert view["status"] == "posted" and view["posting"]["imported"] == 1
    assert view["posting"]["not_imported"] == 1
    with ctx.session_factory() as s:  # the number was not given out twice
        assert s.scalar(select(func.count()).select_from(Client)
                        .where(Client.mobile_no == "0711000101")) == 1


def test_a_kept_preview_edited_on_disk_is_not_used(previewed) -> None:
    ctx, submission_id, kept, reads = previewed
    data = bytearray(kept.read_bytes())
    data[-20] ^= 0x01  # one bit of the pickled rows
    kept.write_bytes(bytes(data))
    view = approve_submission(ctx, submission_id=submission_id, by="Grace Wambui")
    assert reads == [submission_id]
    assert view["status"] == "posted" and view["posting"]["imported"] == 2


def test_a_missing_kept_preview_reads_the_file_again(previewed) -> None:
    ctx, submission_id, kept, reads = previewed
    kept.unlink()
    view = approve_submission(ctx, submission_id=submission_id, by="Grace Wambui")
    assert reads == [submission_id]
    assert view["status"] == "posted" and view["posting"]["imported"] == 2
