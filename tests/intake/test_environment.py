"""A full or read-only disk is the machine's fault, not the file's: the watcher keeps running,
says so (exit code, log, `watch --health`), leaves the file in the inbox, sets nothing aside,
counts no attempt and leaves no partial file; once the disk is fixed the file is taken in.

The faults are real: a small tmpfs mounted over the outbox, the archive or the quarantine
folder, filled up or remounted read-only (the tests skip where mounting is not allowed).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.intake.test_end_to_end import filled_kilimani
from workbook_engine.config import PROJECT_ROOT
from workbook_engine.domain import IntakeClaim, Submission

ROOT = Path(__file__).resolve().parents[2]


def _mount(folder: Path, size: str = "256k") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): needs root")


def _umount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _fill(folder: Path) -> None:
    with (folder / "ballast").open("wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
        except OSError:
            pass


def _read_only(folder: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)


@pytest.fixture
def world(kilimani):  # noqa: ANN001, ANN201
    """Kilimani, a home whose rules wait only a moment after a fault, a runtime folder."""
    home = kilimani.ctx.home
    shutil.copytree(PROJECT_ROOT / "rules", home / "rules", dirs_exist_ok=True)
    rules = home / "rules" / "intake.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace(
        "backoff_seconds: 5", "backoff_seconds: 0.5").replace(
        "settle_seconds: 1.0", "settle_seconds: 0"), encoding="utf-8")
    runtime = Path(tempfile.mkdtemp(prefix="we-", dir="/tmp"))
    mounted: list[Path] = []
    kilimani.mount = lambda folder, size="256k": (_mount(folder, size), mounted.append(folder))
    kilimani.env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_RUNTIME_DIR": str(runtime),
                    "WORKBOOK_ENGINE_HOME": str(home),
                    "WORKBOOK_ENGINE_DB": kilimani.ctx.settings.database_url,
                    "WORKBOOK_ENGINE_TODAY": "2026-03-03", "WORKBOOK_ENGINE_SERVER": "off"}
    yield kilimani
    for folder in mounted:
        _umount(folder)
    shutil.rmtree(runtime, ignore_errors=True)


def _watch_once(world) -> subprocess.CompletedProcess[str]:  # noqa: ANN001
    return subprocess.run([sys.executable, "-m", "workbook_engine.cli.main", "watch", "--once",
                           "--json"], cwd=ROOT, env=world.env, capture_output=True, text=True,
                          timeout=300)


def _partial_files(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*")
            if p.is_file() and p.name != "ballast"
            and (p.name.endswith(".tmp") or ".tmp." in p.name or p.stat().st_size == 0)]


def _state(world) -> tuple[list[IntakeClaim], list[Submission]]:  # noqa: ANN001
    with world.ctx.session_factory() as s:
        return list(s.scalars(select(IntakeClaim))), list(s.scalars(select(Submission)))


@pytest.mark.parametrize("where, fault", [
    ("outbox", "full"), ("outbox", "read-only"), ("archive", "full"),
    ("archive", "read-only")])
def test_a_disk_fault_costs_the_file_nothing(world, where: str, fault: str) -> None:  # noqa: ANN001
    settings = world.ctx.settings
    folder = settings.outbox if where == "outbox" else settings.archive
    world.mount(folder)
    (_fill if fault == "full" else _read_only)(folder)
    sheet = filled_kilimani(world, settings.inbox / "Kilimani.xlsx")
    waited = _watch_once(world)
    assert waited.returncode == 1, (waited.stdout, waited.stderr)
    says = " ".join(waited.stderr.split())
    cause = ("the disk is full (ENOSPC" if fault == "full"
             else "the folder is on a read-only disk (EROFS")
    assert f"Waiting: {cause}" in says and "nothing was set aside" in says
    assert "unexpectedly" not in says and "Traceback" not in says
    assert sheet.exists()  # still in the inbox
    claims, submissions = _state(world)
    assert claims == [] and submissions == []  # no attempt counted, nothing recorded
    assert not list(settings.quarantine.iterdir())
    assert _partial_files(settings.outbox, settings.archive) == []
    _umount(folder)  # the disk is fixed
    taken = _watch_once(world)
    assert taken.returncode == 0, taken.stderr
    [outcome] = json.loads(taken.stdout)
    assert outcome["state"] == "processed" and outcome["status"] == "awaiting_approval"
    assert not sheet.exists()


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_quarantine_disk_fault_sets_nothing_aside_and_keeps_the_file(
        world, fault: str) -> None:  # noqa: ANN001
    settings = world.ctx.settings
    world.mount(settings.quarantine, "64k")
    (_fill if fault == "full" else _read_only)(settings.quarantine)
    garbage = settings.inbox / "photo.xlsx"
    garbage.write_bytes(os.urandom(20_000))
    waited = _watch_once(world)
    says = " ".join(waited.stderr.split())
    cause = "the disk is full" if fault == "full" else "on a read-only disk (EROFS"
    assert waited.returncode == 1 and cause in says, says
    assert "nothing was set aside" in says and "Traceback" not in says
    assert garbage.exists() and not list(settings.outbox.glob("*.not-taken-in.txt"))
    assert _partial_files(settings.outbox, settings.quarantine) == []
    assert _state(world)[0] == []
    _umount(settings.quarantine)
    done = _watch_once(world)
    [outcome] = json.loads(done.stdout)
    assert outcome["state"] == "quarantined" and not garbage.exists(), outcome


def _same_wait(before: list[dict], after: list[dict]) -> bool:
    """Both health outputs show the same wait: no retry began or ended between them (a
    retry holds a claim while it runs, and sets the state, its time and the next retry's)."""
    def wait(found: list[dict]) -> tuple | None:
        return ((found[0].get("state"), found[0].get("since"), found[0].get("retry_at"))
                if found else None)
    return wait(before) is not None and wait(before) == wait(after)


def test_a_running_watcher_waits_out_a_full_disk_and_says_so(world) -> None:  # noqa: ANN001
    settings = world.ctx.settings
    world.mount(settings.outbox)
    _fill(settings.outbox)
    sheet = filled_kilimani(world, settings.inbox / "Kilimani.xlsx")
    watcher = subprocess.Popen([sys.executable, "-m", "workbook_engine.cli.main", "watch",
                                "--polling"], cwd=ROOT, env=world.env,
                               stderr=subprocess.PIPE, text=True)

    def health() -> tuple[int, list[dict]]:
        done = subprocess.run([sys.executable, "-m", "workbook_engine.cli.main", "watch",
                               "--health", "--json"], cwd=ROOT, env=world.env,
                              capture_output=True, text=True, timeout=120)
        return done.returncode, json.loads(done.stdout or "[]")

    try:
        deadline = time.monotonic() + 600  # a hang guard, not a timing
        while True:  # the books, looked at while the watcher waits (not mid-retry)
            code, found = health()
            while not (found and found[0].get("state") == "waiting"):
                assert watcher.poll() is None and time.monotonic() < deadline, found
                time.sleep(0.5)
                code, found = health()
            claims, submissions = _state(world)
            if _same_wait(found, health()[1]):
                break
            assert time.monotonic() < deadline, found
        assert code == 1 and "the disk is full" in found[0]["fault"]
        assert sheet.exists() and claims == [] and submissions == []
        (settings.outbox / "ballast").unlink()  # space again
        while sheet.exists():
            assert watcher.poll() is None and time.monotonic() < deadline
            time.sleep(0.5)
        code, found = health()
        while found[0].get("state") != "watching":
            assert time.monotonic() < deadline, found
            time.sleep(0.5)
            code, found = health()
        assert code == 0 and found[0]["taken_in"] >= 1
    finally:
        watcher.terminate()
        watcher.wait(timeout=60)
    assert watcher.returncode == 0
    claims, submissions = _state(world)
    assert [c.attempts for c in claims] == [1] and len(submissions) == 1
