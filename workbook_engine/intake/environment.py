"""Faults of the machine, not of a file: a full or read-only disk, a folder the engine may not
write, a database that cannot be reached. The watcher waits them out (backing off, saying so
in its log and its status) and never charges them to the file in hand: the file stays where
it is, nothing is set aside, and the attempt does not count."""

from __future__ import annotations

import errno

_CAUSES = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the folder is on a read-only disk",
    errno.EACCES: "the engine may not write there (permission denied)",
    errno.EPERM: "the engine may not write there (operation not permitted)",
    errno.EIO: "the disk reported an input/output error",
}


class EnvironmentFault(Exception):
    """Work stopped by the machine, not by the file; ``reason`` says what and where."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def environmental(exc: BaseException) -> str | None:
    """What is wrong with the machine, when ``exc`` (or what caused it) is such a fault."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, EnvironmentFault):
            return current.reason
        if isinstance(current, OSError) and current.errno in _CAUSES:
            where = f": {current.filename}" if current.filename else ""
            return f"{_CAUSES[current.errno]} ({errno.errorcode[current.errno]}{where})"
        if _database_unreachable(current):
            first = str(current).strip().splitlines()[0][:200] if str(current) else ""
            return f"the database cannot be reached or is busy ({first})"
        current = current.__cause__ or current.__context__
    return None


def _database_unreachable(exc: BaseException) -> bool:
    from sqlalchemy import exc as db

    if isinstance(exc, db.DBAPIError) and (exc.connection_invalidated or isinstance(
            exc, db.OperationalError | db.InterfaceError)):
        return True
    from workbook_engine.errors import EngineError

    return isinstance(exc, EngineError) and exc.code == "database-unavailable"
