"""The application context every service receives: settings, database, rules, clock."""

from __future__ import annotations

from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from workbook_engine.config import Settings
from workbook_engine.db.engine import make_engine
from workbook_engine.db.uow import UnitOfWork
from workbook_engine.rules import Rules

if TYPE_CHECKING:  # the reader (openpyxl, ...) is loaded only by what reads a workbook
    from workbook_engine.workbooks.safe_read import ReadLimits


class AppContext:
    """One engine instance: where it works, which database, which rules, what day it is."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self._engine = engine

    @cached_property
    def engine(self) -> Engine:
        return self._engine or make_engine(self.settings.database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return sessionmaker(self.engine, expire_on_commit=False)

    @cached_property
    def rules(self) -> Rules:
        return Rules(self.settings.rules_dir)

    @property
    def home(self) -> Path:
        return self.settings.home

    def read_limits(self) -> ReadLimits:
        """The limits on reading a received file (``read_limits`` in rules/intake.yaml)."""
        from workbook_engine.intake.settings import read_limits

        return read_limits(self.rules.section("intake"))

    def today(self):  # noqa: ANN201 - a date
        return self.settings.clock.today()

    def unit_of_work(self, actor_id: int | None, *,
                     connection: Connection | None = None) -> UnitOfWork:
        """A new transaction acting on behalf of a member of staff (None: the system); on
        ``connection`` when given (one connection for several transactions in turn)."""
        factory = (self.session_factory if connection is None
                   else partial(self.session_factory, bind=connection))
        return UnitOfWork(factory, actor_id, self.settings.clock.now())

    def dispose(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
