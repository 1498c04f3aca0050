"""The inbox watcher in-process: what it takes, skips, archives, quarantines, and retries."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from tests.intake.conftest import QUICK
from tests.intake.fake_processing import Broken, make_sheet
from workbook_engine.domain import ClaimState, Submission
from workbook_engine.intake.archive import file_sha256
from workbook_engine.intake.files import is_ignored, wait_until_complete
from workbook_engine.intake.watcher import FolderWatcher, Intake
from workbook_engine.services.pipeline.intake import claim_rows


def _submissions(ctx) -> list[Submission]:  # noqa: ANN001
    with ctx.session_factory() as s:
        return list(s.scalars(select(Submission).order_by(Submission.id)))


def test_ignored_names() -> None:
    for name in ("~$Kilimani.xlsx", ".~lock.Kilimani.xlsx#", "Kilimani.xlsx.part",
                 "Kilimani.xlsx.crdownload", "upload.tmp", ".hidden.xlsx", "Kilimani.xlsx~",
                 # what Windows Explorer and macOS leave in a shared folder by themselves
                 "Thumbs.db", "thumbs.db", "ehthumbs.db", "desktop.ini", "Desktop.ini",
                 ".DS_Store", "Icon\r"):
        assert is_ignored(name), name
    for name in ("Kilimani 2026-03-03.xlsx", "sheet.csv", "odd~name.xlsx"):
        assert not is_ignored(name), name


def test_takes_what_is_waiting_and_leaves_lock_files(watcher: FolderWatcher, kilimani) -> None:  # noqa: ANN001
    ctx, inbox = kilimani.ctx, watcher.inbox
    a = make_sheet(inbox / "Kilimani A.xlsx", kilimani.center_id, rows=3)
    b = make_sheet(inbox / "Kilimani B.xlsx", kilimani.center_id, rows=4)
    sha_a, sha_b = file_sha256(a), file_sha256(b)
    for junk in ("~$Kilimani A.xlsx", ".~lock.Kilimani B.xlsx#", "c.xlsx.part", ".DS_Store"):
        (inbox / junk).write_bytes(b"lock")
    (inbox / "notes.xlsx").write_text("not a workbook at all", encoding="utf-8")

    outcomes = watcher.run_once()

    by_name = {o.original_name: o for o in outcomes}
    assert set(by_name) == {"Kilimani A.xlsx", "Kilimani B.xlsx", "notes.xlsx"}
    assert by_name["Kilimani A.xlsx"].status == "awaiting_approval"
    assert by_name["Kilimani A.xlsx"].report_xlsx.exists()
    # The originals are in the archive under their hash, and the submission says where.
    subs = _submissions(ctx)
    assert sorted(s.file_sha256 for s in subs) == sorted([sha_a, sha_b])
    for sub in subs:
        assert Path(sub.archive_path).name.startswith(sub.file_sha256)
        assert file_sha256(Path(sub.archive_path)) == sub.file_sha256
    # Garbage: quarantined with a note in the outbox; the lock and temporary files untouched.
    garbage = by_name["notes.xlsx"]
    assert garbage.state == "quarantined" and garbage.quarantine_path.exists()
    note = garbage.note_path.read_text(encoding="utf-8")
    assert '"notes.xlsx" was not taken in' in note and "plain text" in note
    assert sorted(p.name for p in inbox.iterdir()) == sorted(
        ["~$Kilimani A.xlsx", ".~lock.Kilimani B.xlsx#", "c.xlsx.part", ".DS_Store"])
    states = {c.original_name: c.state for c in claim_rows(ctx)}
    assert states == {"Kilimani A.xlsx": ClaimState.PROCESSED,
                      "Kilimani B.xlsx": ClaimState.PROCESSED,
                      "notes.xlsx": ClaimState.QUARANTINED}
    assert watcher.run_once() == []  # nothing left; nothing done twice


def test_the_same_content_twice_is_a_duplicate(watcher: FolderWatcher, kilimani) -> None:  # noqa: ANN001
    sheet = make_sheet(kilimani.ctx.home / "sent.xlsx", kilimani.center_id)
    content = sheet.read_bytes()
    (watcher.inbox / "Kilimani.xlsx").write_bytes(content)
    (watcher.inbox / "Kilimani (copy).xlsx").write_bytes(content)
    first = watcher.run_once()
    (watcher.inbox / "Kilimani again.xlsx").write_bytes(content)
    second = watcher.run_once()
    outcomes = first + second
    assert len(outcomes) == 3
    new = [o for o in outcomes if o.submission_id]
    assert len(new) == 1
    assert all(o.duplicate_of == new[0].submission_id for o in outcomes if o is not new[0])
    assert len(_submissions(kilimani.ctx)) == 1
    assert list(watcher.inbox.iterdir()) == []


def test_a_file_copied_in_slowly_is_read_only_when_complete(watcher: FolderWatcher,
                                                            kilimani) -> None:  # noqa: ANN001
    source = make_sheet(kilimani.ctx.home / "big.xlsx", kilimani.center_id, rows=3000)
    data = source.read_bytes()
    target = watcher.inbox / "Kilimani slow.xlsx"
    started = threading.Event()

    def copy_slowly() -> None:
        with target.open("wb") as fh:
            for i in range(0, len(data), 4096):
                fh.write(data[i:i + 4096])
                fh.flush()
                started.set()
                time.sleep(0.002)

    writer = threading.Thread(target=copy_slowly)
    writer.start()
    started.wait(5)
    # The zip's central directory is written last: a partial copy never passes, whatever
    # the timing. The settle interval is generous so only the zip check is at work.
    intake = watcher.intake
    intake.rules = QUICK.with_(settle_seconds=0.01, incomplete_grace_seconds=60)
    outcome = intake.take_file(target)
    writer.join()
    assert outcome is not None and outcome.status == "awaiting_approval"
    assert outcome.sha256 == file_sha256(source)
    assert [s.file_sha256 for s in _submissions(kilimani.ctx)] == [file_sha256(source)]


def test_an_incomplete_zip_is_waited_for_then_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "cut.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    sleeps: list[float] = []
    assert wait_until_complete(path, settle_seconds=0.01, grace_seconds=0.2,
                               sleep=lambda s: (sleeps.append(s), time.sleep(s)))
    assert sum(sleeps) >= 0.2  # held back for the grace period, then taken
    assert not wait_until_complete(tmp_path / "gone.xlsx", settle_seconds=0.01,
                                   grace_seconds=0.1)


def test_a_file_that_keeps_failing_is_quarantined_not_retried_for_ever(kilimani) -> None:  # noqa: ANN001
    Broken.calls = 0
    intake = Intake(kilimani.ctx, rules=QUICK, processor=Broken())
    watcher = FolderWatcher(intake, kilimani.ctx.settings.inbox)
    make_sheet(watcher.inbox / "Kilimani.xlsx", kilimani.center_id)
    outcomes = watcher.run_once()
    assert [o.state for o in outcomes] == ["failed", "failed", "quarantined"]
    assert Broken.calls == QUICK.max_attempts
    assert "failed 3 times" in outcomes[-1].message
    assert "simulated bug" in outcomes[-1].note_path.read_text(encoding="utf-8")
    [claim] = claim_rows(kilimani.ctx)
    assert claim.state == ClaimState.QUARANTINED and claim.attempts == 3
    assert watcher.run_once() == []
    with kilimani.ctx.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 0


def test_processing_is_prepared_once_in_the_watcher_not_in_each_files_process(
        kilimani, monkeypatch) -> None:  # noqa: ANN001
    """What every file's process would pay again (the report templates, the rule files,
    the compiled statements) is done once, in the watcher's own process, before it forks; a file's
    process starts its own reader worker, never one the watcher has idle (its pipe is the
    watcher's)."""
    from workbook_engine.services.pipeline import processing
    from workbook_engine.workbooks._isolation import worker_pids
    from workbook_engine.workbooks.safe_read import read_workbook

    read_workbook(make_sheet(kilimani.ctx.home / "read-here.xlsx", kilimani.center_id))
    assert worker_pids()  # a worker of the watcher's own, idle

    prepared: list[int] = []
    prepare = processing.prepare_process
    monkeypatch.setattr(processing, "prepare_process",
                        lambda ctx: (prepared.append(os.getpid()), prepare(ctx)))
    intake = Intake(kilimani.ctx, rules=QUICK, isolate=True, stop=threading.Event())
    watcher = FolderWatcher(intake, kilimani.ctx.settings.inbox)
    for name in ("notes.txt", "other-notes.txt"):  # not workbooks: set aside by process_file
        (watcher.inbox / name).write_text(f"{name}: not a workbook", encoding="utf-8")
    outcomes = watcher.run_once()
    assert [o.state for o in outcomes] == ["quarantined", "quarantined"]
    assert prepared == [os.getpid()]
