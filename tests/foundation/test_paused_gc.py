"""bulk.paused_gc: the cyclic collector paused for a block, and running again in any process
forked during the block (a reader worker started then is kept for many files)."""

from __future__ import annotations

import gc
import multiprocessing
import os

import pytest

from workbook_engine.bulk import paused_gc

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _tell_collector(conn: multiprocessing.connection.Connection) -> None:
    conn.send(gc.isenabled())
    conn.close()


def test_the_block_pauses_and_resumes_nested() -> None:
    assert gc.isenabled()
    with paused_gc():
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


@needs_fork
def test_a_worker_forked_during_the_block_collects() -> None:
    context = multiprocessing.get_context("fork")
    mine, theirs = context.Pipe()
    with paused_gc():
        worker = context.Process(target=_tell_collector, args=(theirs,))
        worker.start()
        assert not gc.isenabled()
    assert mine.recv() is True
    worker.join(30)
    assert gc.isenabled()


@needs_fork
def test_a_child_forked_during_the_block_collects() -> None:
    read, write = os.pipe()
    with paused_gc():
        pid = os.fork()
        if pid == 0:  # the child: answer and leave, never back through the block
            os.write(write, b"1" if gc.isenabled() else b"0")
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.close(read)
    os.waitpid(pid, 0)
    assert answer == b"1" and gc.isenabled()


def test_a_collector_switched_off_by_the_program_stays_off() -> None:
    gc.disable()
    try:
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
