"""The reader's worker processes: kept between files, yet a crash, a hang or a runaway
allocation costs one file and never the engine or the next file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.workbooks.test_safe_read import make_valid_xlsx, read_err, vm_size_bytes
from workbook_engine.workbooks import _isolation
from workbook_engine.workbooks.safe_read import ReadLimits, read_workbook


@pytest.fixture(autouse=True)
def fresh_workers():
    _isolation.shutdown_workers()
    yield
    _isolation.shutdown_workers()


def _values(path: Path) -> list[object]:
    sheet = read_workbook(path).sheet("Collection")
    assert sheet is not None
    return [sheet.value(2, 1), sheet.value(2, 3)]


def _wait_until_dead(pid: int, deadline_s: float = 30.0) -> None:
    """Until the process has died (a zombie not yet reaped by its parent, or gone), however
    loaded the machine; not reaped here, so that the pool sees it dead as it would."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            return
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return
        time.sleep(0.005)
    raise AssertionError(f"process {pid} was still alive {deadline_s} s after SIGKILL")


def test_one_worker_serves_many_files_in_another_process(tmp_path: Path) -> None:
    files = [make_valid_xlsx(tmp_path / f"ok{i}.xlsx") for i in range(5)]
    pids = set()
    for path in files:
        assert _values(path) == ["Amina", 1500]
        pids.update(_isolation.worker_pids())
    assert len(pids) == 1 and os.getpid() not in pids


def test_a_crashing_file_costs_that_file_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_parse = _isolation.parse

    def parse_or_abort(job):  # a native crash on one file only
        if job.path.endswith("boom.xlsx"):
            os.abort()
        return real_parse(job)

    monkeypatch.setattr(_isolation, "parse", parse_or_abort)
    good = make_valid_xlsx(tmp_path / "good.xlsx")
    boom = make_valid_xlsx(tmp_path / "boom.xlsx")
    assert _values(good) == ["Amina", 1500]
    first = _isolation.worker_pids()
    e = read_err(boom, "reader-crashed")
    assert e.detail and "-6" in e.detail
    assert _values(good) == ["Amina", 1500]  # the next file gets a new worker
    assert _isolation.worker_pids() != first


def test_a_hanging_file_is_killed_and_the_next_file_is_read(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    real_parse = _isolation.parse

    def parse_or_hang(job):
        if job.path.endswith("hang.xlsx"):
            time.sleep(30)
        return real_parse(job)

    monkeypatch.setattr(_isolation, "parse", parse_or_hang)
    limits = ReadLimits(timeout_seconds=0.5)
    good = make_valid_xlsx(tmp_path / "good.xlsx")
    assert read_workbook(good, limits).sheets
    worker = _isolation.worker_pids()[0]
    t0 = time.monotonic()
    read_err(make_valid_xlsx(tmp_path / "hang.xlsx"), "reader-timeout", limits)
    assert time.monotonic() - t0 < 5
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)  # the hung worker is gone
    assert read_workbook(good, limits).sheets


def test_a_worker_killed_while_idle_does_not_blame_the_next_file(tmp_path: Path) -> None:
    good = make_valid_xlsx(tmp_path / "good.xlsx")
    assert _values(good) == ["Amina", 1500]
    [worker] = _isolation.worker_pids()
    os.kill(worker, signal.SIGKILL)  # e.g. the kernel's OOM killer between two files
    _wait_until_dead(worker)  # idle: dead before the next file comes (a fixed 0.2 s was not)
    assert _values(good) == ["Amina", 1500]
    assert _isolation.worker_pids() != [worker]


def test_out_of_memory_in_a_worker_then_normal_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_parse = _isolation.parse

    def hog_on_one(job):
        if job.path.endswith("hog.xlsx"):
            _ = bytearray(4 * 2**30)
        return real_parse(job)

    monkeypatch.setattr(_isolation, "parse", hog_on_one)
    limits = ReadLimits(memory_bytes=vm_size_bytes() + 200 * 2**20)
    good = make_valid_xlsx(tmp_path / "good.xlsx")
    assert read_workbook(good, limits).sheets
    read_err(make_valid_xlsx(tmp_path / "hog.xlsx"), "reader-out-of-memory", limits)
    assert read_workbook(good, limits).sheets
    # other limits get a worker of their own (the memory limit is set when a worker starts)
    assert read_workbook(good).sheets


def test_workers_exit_when_the_engine_is_killed(tmp_path: Path) -> None:
    """A killed engine leaves no worker behind holding its output open (the intake
    watcher's restart tests wait for that output to close)."""
    good = make_valid_xlsx(tmp_path / "good.xlsx")
    script = (
        "import os, signal\n"
        "from workbook_engine.workbooks import _isolation\n"
        "from workbook_engine.workbooks.safe_read import read_workbook\n"
        f"read_workbook({str(good)!r})\n"
        "print(_isolation.worker_pids()[0], flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == -signal.SIGKILL
    worker = int(done.stdout)
    try:
        _wait_until_dead(worker, 5.0)
    except AssertionError:
        pytest.fail(f"worker {worker} outlived the killed engine")


def test_a_worker_stops_on_sigterm_whatever_the_parent_handles(tmp_path: Path) -> None:
    """The watcher handles SIGTERM by finishing its file; its workers must not inherit that."""
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        assert _values(make_valid_xlsx(tmp_path / "good.xlsx")) == ["Amina", 1500]
    finally:
        signal.signal(signal.SIGTERM, previous)
    [worker] = _isolation._idle
    os.kill(worker.proc.pid, signal.SIGTERM)
    worker.proc.join(5)
    assert worker.proc.exitcode == -signal.SIGTERM


def test_a_worker_is_replaced_after_a_big_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_isolation, "_RECYCLE_AFTER_BYTES", 1)  # every file counts as big
    assert _values(make_valid_xlsx(tmp_path / "big.xlsx")) == ["Amina", 1500]
    assert _isolation.worker_pids() == []  # its grown heap is not kept idle


def test_a_worker_that_dies_unnoticed_while_idle_is_replaced(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    good = make_valid_xlsx(tmp_path / "good.xlsx")
    assert _values(good) == ["Amina", 1500]
    [worker] = _isolation._idle
    worker.proc.kill()
    worker.proc.join()
    monkeypatch.setattr(_isolation._Worker, "fits", lambda self, job: True)  # not noticed
    assert _values(good) == ["Amina", 1500]
