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
from workbook_engine.intake.faults import ENV_FAULT, POINTS
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


@pytest.mark.parametrize("point", POINTS)
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
    # The interrupted file was retried once: two claims in all for it, one for the other.
    assert sorted(c.attempts for c in claim_rows(ctx)) == [1, 2]
    assert "result Kilimani" in again.stderr  # a log line per file
    # A third run has nothing to do.
    third = run_watch(ctx)
    assert third.returncode == 0 and json.loads(third.stdout) == []


def test_killed_every_time_ends_in_quarantine_not_a_crash_loop(kilimani) -> None:  # noqa: ANN001
    ctx = kilimani.ctx
    make_sheet(ctx.settings.inbox / "Kilimani.xlsx", kilimani.center_id)
    for _ in range(3):  # max_attempts in rules/intake.yaml
        assert run_watch(ctx, fault="after-read").returncode == -signal.SIGKILL
    last = run_watch(ctx, fault="after-read")
    assert last.returncode == 0, last.stderr
    [outcome] = json.loads(last.stdout)
    assert outcome["state"] == "quarantined" and "interrupted 3 times" in outcome["message"]
    assert Path(outcome["note_path"]).exists() and Path(outcome["quarantine_path"]).exists()
    with ctx.session_factory() as s:
        assert list(s.scalars(select(Submission))) == []


def test_sigterm_finishes_the_file_in_hand(kilimani) -> None:  # noqa: ANN001
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
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    [claim] = claim_rows(ctx)
    assert claim.state == ClaimState.PROCESSED
