"""The unit of work: one database transaction per use case, with its audit records."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from workbook_engine.domain import AuditRecord


class UnitOfWork:
    """A session whose changes are committed together, or not at all.

    Nothing is committed unless :meth:`commit` is called; leaving the block without it (or
    through an exception) rolls everything back.
    """

    def __init__(self, session_factory: Callable[[], Session], actor_id: int | None,
                 now: dt.datetime) -> None:
        self._session_factory = session_factory
        self.actor_id = actor_id
        self.now = now
        self.session: Session

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def audit(self, action: str, entity: Any, *, before: dict[str, Any] | None = None,
              after: dict[str, Any] | None = None, note: str | None = None,
              flush: bool = True) -> None:
        """Record who did what to which record; ``after`` defaults to the entity's columns.

        The session is flushed first so that the entity has its id and defaults; a caller
        recording many entities that already have their ids, with ``after`` given, may pass
        ``flush=False`` so that they are flushed together.
        """
        if flush:
            self.session.flush()
        entity_id = None
        if hasattr(entity, "id"):
            entity_id = str(entity.id)
        self.session.add(AuditRecord(
            at=self.now, actor_id=self.actor_id, action=action,
            entity_type=type(entity).__tablename__ if hasattr(type(entity), "__tablename__")
            else type(entity).__name__,
            entity_id=entity_id, before=before,
            after=after if after is not None else snapshot(entity), note=note))


def snapshot(entity: Any) -> dict[str, Any]:
    """The column values of a mapped object, as JSON-ready values."""
    mapper = inspect(type(entity))
    return {attr.key: to_json(getattr(entity, attr.key)) for attr in mapper.column_attrs}


def to_json(value: Any) -> Any:
    """A JSON-ready form of a column value: Decimal and dates as text, enums as values."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value
