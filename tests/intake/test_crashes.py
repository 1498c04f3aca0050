"""SIGKILL at every named fault point, then a restart: every file processed exactly once.

The watcher runs as a real process (``workbook-engine watch --once``) with
WORKBOOK_ENGINE_FAULT naming the point where it kills itself; no timing is involved.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.intake.fake_processing import make_sheet
from workbook_engine.domain import ClaimState, Submission
from workbook_engine.intake.archive import file_sha256
from workbook_engine.intake.faults import ENV_FAULT
from workbook_engine.services.pipeline.intake import claim_rows

ROOT = Path(__file__).resolve().parents[2]
FAKE = "tests.intake.fake_processing:process_file"


def run_watch(ctx, *args: str, fault: str | None = None,  # noqa: ANN001
              inbox: Path | None = None, processor: str | None = FAKE,
              ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(ENV_FAULT, None)
    if fault:
        env[ENV_FAULT] = fault
    command = [sys.executable, "-m", "workbook_engine.cli.main", "--home", str(ctx.home),
               "--db", ctx.settings.database_url, "--today", "2026-03-03", "watch", "--once",
               "--settle", "0", "--json", *args]
    if processor:
        command += ["--processor", processor]
    if inbox:
        command += ["--inbox", str(inbox)]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def assert_each_processed_once(ctx, shas: list[str]) -> None:  # noqa: ANN001
    with ctx.session_factory() as s:
        subs = list(s.scalars(select(Submission)))
    assert sorted(s.file_sha256 for s in subs) == sorted(shas)  # once each, none half
    for sub in subs:
        assert (ctx.settings.outbox / f"submission-{sub.id}-preview.xlsx").exists()
        assert file_sha256(Path(sub.archive_path)) == sub.file_sha256
    claims = claim_rows(ctx)
    assert sorted(c.file_sha256 for c in claims) == sorted(shas)
    assert all(c.state == ClaimState.PROCESSED for c in claims)
    assert list(ctx.settings.inbox.iterdir()) == []


WATCHER_POINTS = ("after-claim", "after-archive")
"""Points the watcher itself passes; the others are in the processing, which runs in a process
of its own (``intake/isolation.py``)."""


@pytest.mark.parametrize("point", WATCHER_POINTS)
def test_killed_at_each_point_then_restarted(kilimani, point: str) -> None:  # noqa: ANN001
    ctx = kilimani.ctx
    files = [make_sheet(ctx.settings.inbox / f"Kilimani {i}.xlsx", kilimani.center_id,
                        rows=i + 1) for i in range(2)]
    shas = [file_sha256(f) for f in files]

    killed = run_watch(ctx, fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    again = run_watch(ctx)
    assert again.returncode == 0, again.stderr
    assert_each_processed_once(ctx, shas)
    # The watcher's death is not the file's doing: no attempt was counted for it.
    assert sorted(c.attempts for c in claim_rows(ctx)) == [1, 1]
    assert "result Kilimani" in again.stderr  # a log line per file
    # A third run has nothing to do.
    third = run_watch(ctx)
    assert third.returncode == 0 and json.loads(third.stdout) == []


@pytest.mark.parametrize("point", ["after-read", "mid-posting"])
def test_processing_killed_every_time_sets_the_file_aside_without_a_crash_loop(
        kilimani, point: str) -> None:  # noqa: ANN001
    ctx = kilimani.ctx
    make_sheet(ctx.settings.inbox / "Kilimani.xlsx", kilimani.center_id)
    run = run_watch(ctx, fault=point)
    assert run.returncode == 0, run.stderr  # the watcher itself never died
    *failed, outcome = json.loads(run.stdout)
    assert [f["state"] for f in failed] == ["failed", "failed"]
    assert outcome["state"] == "quarantined"
    assert "processing failed 3 times" in outcome["message"]
    assert "killed by SIGKILL" in outcome["message"]
    assert Path(outcome["note_path"]).exists() and Path(outcome["quarantine_path"]).exists()
    with ctx.session_factory() as s:
        assert list(s.scalars(select(Submission))) == []


def test_processing_killed_after_its_commit_is_taken_in_on_the_retry(kilimani) -> None:  # noqa: ANN001
    ctx = kilimani.ctx
    files = [make_sheet(ctx.settings.inbox / f"Kilimani {i}.xlsx", kilimani.center_id,
                        rows=i + 1) for i in range(2)]
    shas = [file_sha256(f) for f in files]
    run = run_watch(ctx, fault="after-commit")
    assert run.returncode == 0, run.stderr
    assert_each_processed_once(ctx, shas)
    assert sorted(c.attempts for c in claim_rows(ctx)) == [2, 2]
    taken = [o for o in json.loads(run.stdout) if o["state"] == "processed"]
    assert len(taken) == 2
    for outcome in taken:
        assert outcome["duplicate_of"] is None and outcome["submission_id"] is not None


def test_three_restarts_while_a_file_is_processed_do_not_set_it_aside(kilimani) -> None:  # noqa: ANN001
    """A power cut or systemd killing the watcher mid-file, three times: the sheet is still
    taken in, at the first attempt."""
    ctx = kilimani.ctx
    sheet = make_sheet(ctx.settings.inbox / "Kilimani.xlsx", kilimani.center_id)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FAKE_PROCESSING_SLEEP": "60"}
    env.pop(ENV_FAULT, None)
    for _ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbook_engine.cli.main", "--home", str(ctx.home), "--db",
             ctx.settings.database_url, "watch", "--polling", "--settle", "0", "--processor",
             FAKE], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        for line in proc.stderr:  # wait until it is working on the file, then kill it
            if "received Kilimani.xlsx" in line:
                break
        proc.kill()
        assert proc.wait(timeout=60) == -signal.SIGKILL
        proc.stderr.close()
    done = run_watch(ctx)
    assert done.returncode == 0, done.stderr
    [outcome] = json.loads(done.stdout)
    assert outcome["state"] == "processed" and outcome["submission_id"] is not None
    [claim] = claim_rows(ctx)
    assert (claim.state, claim.attempts) == (ClaimState.PROCESSED, 1)
    assert not sheet.exists() and not list(ctx.settings.quarantine.iterdir())


@pytest.mark.parametrize(("stop_signal", "exit_code"), [
    (signal.SIGTERM, 0),  # a service manager's stop: a normal end
    (signal.SIGINT, 130),  # Ctrl+C: the exit code of an interruption, as the README says
])
def test_a_stop_signal_finishes_the_file_in_hand(kilimani, stop_signal: int,  # noqa: ANN001
                                                 exit_code: int) -> None:
    ctx = kilimani.ctx
    make_sheet(ctx.settings.inbox / "Kilimani.xlsx", kilimani.center_id)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbook_engine.cli.main", "--home", str(ctx.home), "--db",
         ctx.settings.database_url, "watch", "--polling", "--settle", "0", "--processor",
         FAKE], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:  # wait for the file's result line, then ask it to stop
        if "result Kilimani.xlsx" in line:
            break
    proc.send_signal(stop_signal)
    assert proc.wait(timeout=60) == exit_code
    [claim] = claim_rows(ctx)
    assert claim.state == ClaimState.PROCESSED