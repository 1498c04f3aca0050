"""Fixtures of the intake tests: quick rules and a watcher on the fake processor."""

from __future__ import annotations

import threading

import pytest

from tests.intake.fake_processing import process_file
from workbook_engine.intake.settings import IntakeRules
from workbook_engine.intake.watcher import FolderWatcher, Intake

QUICK = IntakeRules(settle_seconds=0.05, incomplete_grace_seconds=0.3, rescan_seconds=1,
                    lease_seconds=30, max_attempts=3)


@pytest.fixture
def watcher(kilimani) -> FolderWatcher:  # noqa: ANN001
    """A folder watcher on the Kilimani database, processing with the fake service."""
    intake = Intake(kilimani.ctx, rules=QUICK, processor=process_file, stop=threading.Event())
    return FolderWatcher(intake, kilimani.ctx.settings.inbox)
