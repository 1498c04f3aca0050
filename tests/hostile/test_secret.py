"""The signing secret: owner-only, rotatable, and never written into a workbook or a report.

Every file the engine writes in a busy day (generated sheets, preview reports valid and not,
the highlighted copies, the excluded-rows sheet, client-import template and report, the
quarantine note, the e-mail reply, the database itself) is searched for every key of the
ring: raw bytes, hex and base64, in the files and inside every zip member (a workbook's XML is
compressed, so a plain search of the file would miss it).
"""

from __future__ import annotations

import base64
import json
import mailbox
import stat
import threading
import zipfile
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select

from tests.client_import.filling import fill
from tests.hostile.conftest import World
from tests.hostile.corpus import AMINA, filled
from tests.hostile.test_corpus import QUICK, WANJIRU_EMAIL
from workbook_engine.domain import Office
from workbook_engine.intake.mail import MailIntake
from workbook_engine.intake.settings import MailSettings
from workbook_engine.intake.watcher import FolderWatcher, Intake
from workbook_engine.services.imports.client_import import generate_client_template
from workbook_engine.services.collection.sheets import generate_collection_sheets
from workbook_engine.services.imports.excluded_rows import write_excluded_sheet
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission
from workbook_engine.workbooks.signing import load_key_ring, rotate_key


def _forms(key: bytes) -> list[bytes]:
    return [key, key.hex().encode(), key.hex().upper().encode(), base64.b64encode(key),
            base64.urlsafe_b64encode(key)]


def _contents(path: Path) -> list[tuple[str, bytes]]:
    """The file's bytes, and the bytes of every member when it is a zip (xlsx)."""
    data = path.read_bytes()
    out = [(str(path), data)]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as book:
            out += [(f"{path}!{name}", book.read(name)) for name in book.namelist()]
    return out


def _busy_day(world: World) -> None:
    ctx = world.ctx
    generated = world.tmp / "generated"
    generate_collection_sheets(ctx, actor_id=None, out_dir=generated,
                               center_id=world.kilimani.center_id)
    valid = process_file(ctx, filled(world, "valid.xlsx").path, actor_id=None)
    assert valid.status == "awaiting_approval"
    bad = process_file(ctx, filled(world, "bad.xlsx", cells={(AMINA, "repayment"): 1}).path,
                       actor_id=None)
    approve_submission(ctx, submission_id=bad.submission_id, by="Grace Wambui",
                       exclude_invalid=True, write_excluded=write_excluded_sheet)
    with ctx.session_factory() as s:
        office = s.scalar(select(Office.id).where(Office.name == "Nairobi East"))
    template = generate_client_template(ctx, actor_id=None, office_id=office,
                                        legal_form="person", out_dir=generated)
    clients = [{"row_key": "1", "office": "Nairobi East", "first_name": "Neema",
                "last_name": "Kariuki", "gender": "Female", "submitted_on": ctx.today(),
                "active": "No"}]
    process_file(ctx, fill(template.path, world.tmp / "import.xlsx", clients), actor_id=None)
    (ctx.settings.inbox / "notes.xlsx").write_text("not a sheet", encoding="utf-8")
    FolderWatcher(Intake(ctx, rules=QUICK, stop=threading.Event()),
                  ctx.settings.inbox).run_once()
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = WANJIRU_EMAIL, "sheets@x.example", "Kilimani"
    msg.set_content("attached")
    msg.add_attachment(filled(world, "mailed.xlsx", header={"receipt_number": "R-9"})
                       .path.read_bytes(), maintype="application", subtype="octet-stream",
                       filename="Kilimani.xlsx")
    maildir = world.tmp / "Maildir"
    mailbox.Maildir(maildir, create=True).add(msg)
    rules = QUICK.with_(mail=MailSettings(outgoing_maildir="outgoing"))
    [reply] = MailIntake(Intake(ctx, rules=rules, stop=threading.Event()), maildir).run_once()
    assert reply.accepted


def test_the_secret_is_in_no_workbook_report_note_reply_or_database(world: World) -> None:
    ctx = world.ctx
    rotate_key(ctx.settings.secret_file)  # two keys: the old one and the current one
    _busy_day(world)
    ring = load_key_ring(ctx.settings.secret_file)
    assert len(ring.keys) == 2
    secrets = [(key_id, form) for key_id, key in ring.keys.items() for form in _forms(key)]
    searched = [p for folder in (ctx.home, world.tmp) for p in folder.rglob("*")
                if p.is_file() and p != ctx.settings.secret_file
                and not p.name.startswith("signing.key")]
    kinds = {p.suffix for p in searched}
    assert {".xlsx", ".html", ".txt", ".sqlite3"} <= kinds, kinds
    assert any("outgoing" in p.parts for p in searched)  # the e-mail reply
    for path in searched:
        for where, data in _contents(path):
            for key_id, form in secrets:
                assert form not in data, f"key {key_id} found in {where}"
    # what the workbooks do carry: the key id, to verify with the right key after rotation
    assert any(key_id.encode() in data for p in searched if p.suffix == ".xlsx"
               for _, data in _contents(p) for key_id in ring.keys)


def test_the_secret_file_is_owner_only_and_rotation_keeps_old_sheets_valid(
        world: World) -> None:
    ctx = world.ctx
    secret = ctx.settings.secret_file
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    old = load_key_ring(secret)
    new_id = rotate_key(secret)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    ring = json.loads(secret.read_text(encoding="utf-8"))
    assert ring["current"] == new_id and set(ring["keys"]) == {old.current, new_id}
    # a sheet signed with the old key is still taken in; a new one is signed with the new key
    result = process_file(ctx, filled(world).path, actor_id=None)
    assert result.status == "awaiting_approval", result.errors
    [sheet] = generate_collection_sheets(ctx, actor_id=None, out_dir=world.tmp / "new",
                                         center_id=world.tumaini.center_id)
    from workbook_engine.workbooks.metadata import read_metadata

    assert read_metadata(sheet.path).metadata.key_id == new_id


def test_a_signature_edited_into_non_ascii_text_is_refused_not_a_crash() -> None:
    """Found by the mutation property: '¡' typed over the signature cell raised TypeError."""
    from workbook_engine.workbooks.signing import KeyRing

    ring = KeyRing("k1", {"k1": b"secret"})
    key, signature = ring.sign(b"payload")
    assert ring.verify(b"payload", key, signature)
    assert not ring.verify(b"payload", key, "¡")
    assert not ring.verify(b"payload", key, signature[:-1] + "é")
