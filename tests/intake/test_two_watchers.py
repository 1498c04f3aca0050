"""Two watcher processes on one inbox, sharing a PostgreSQL database: each file once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import KILIMANI_MEETING, _kilimani, make_context
from tests.intake.fake_processing import make_sheet
from tests.intake.test_crashes import FAKE, ROOT, assert_each_processed_once
from tests.support.databases import fresh_database
from workbook_engine.intake.archive import file_sha256
from workbook_engine.intake.faults import ENV_FAULT


@pytest.mark.server_db
def test_two_watchers_share_one_inbox_on_postgresql(tmp_path: Path) -> None:
    with fresh_database("postgresql", tmp_path) as url:
        ctx = make_context(tmp_path, url, KILIMANI_MEETING)
        try:
            world = _kilimani(ctx)
            files = [make_sheet(ctx.settings.inbox / f"Kilimani {i:02d}.xlsx",
                                world.center_id, rows=i + 1) for i in range(10)]
            shas = [file_sha256(f) for f in files]
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            env.pop(ENV_FAULT, None)
            command = [sys.executable, "-m", "workbook_engine.cli.main", "--home",
                       str(ctx.home), "--db", url, "watch", "--once", "--settle", "0",
                       "--json", "--processor", FAKE]
            workers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True) for _ in range(2)]
            results = [w.communicate(timeout=180) for w in workers]
            assert [w.returncode for w in workers] == [0, 0], [err for _, err in results]
            taken = [[o["sha256"] for o in json.loads(out) if o["state"] == "processed"]
                     for out, _ in results]
            print("files per worker:", [len(t) for t in taken])
            # Between them they took every file, and no file was taken by both.
            assert sorted(taken[0] + taken[1]) == sorted(shas)
            assert_each_processed_once(ctx, shas)
        finally:
            ctx.dispose()
