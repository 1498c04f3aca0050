"""The error catalogue: every refusal and validation error the engine can report.

Each error type has a stable code (used in reports, ``--json`` output and docs/errors.md), a
title and a how-to-fix written for the person who must fix it. Areas of the engine declare
their error types in the modules of this package with :func:`define`; nothing else invents
error codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ErrorType:
    """One entry of the catalogue."""

    code: str
    title: str
    how_to_fix: str
    area: str


CATALOGUE: dict[str, ErrorType] = {}


def define(code: str, title: str, how_to_fix: str, *, area: str) -> ErrorType:
    """Add an error type to the catalogue; codes are unique."""
    if code in CATALOGUE:
        raise ValueError(f"error code {code!r} is defined twice")
    error = ErrorType(code=code, title=title, how_to_fix=how_to_fix, area=area)
    CATALOGUE[code] = error
    return error


def lookup(code: str) -> ErrorType:
    """The catalogue entry of a code."""
    _load_areas()
    return CATALOGUE[code]


@dataclass(frozen=True)
class Location:
    """Where a problem is: file, sheet, row, column, and the client or account concerned."""

    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    cell: str | None = None
    client_id: int | None = None
    account: str | None = None

    def describe(self) -> str:
        parts = []
        if self.file:
            parts.append(f"file {self.file}")
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if self.cell:
            parts.append(f"cell {self.cell}")
        elif self.row is not None:
            parts.append(f"row {self.row}")
        if self.column and not self.cell:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)


@dataclass(frozen=True)
class Problem:
    """One occurrence of an error type: what is wrong, where, and how to fix it."""

    error: ErrorType
    message: str
    location: Location = field(default_factory=Location)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.error.code

    def as_dict(self) -> dict[str, Any]:
        loc = self.location
        return {
            "code": self.error.code, "title": self.error.title, "message": self.message,
            "how_to_fix": self.error.how_to_fix, "file": loc.file, "sheet": loc.sheet,
            "row": loc.row, "column": loc.column, "cell": loc.cell,
            "client_id": loc.client_id, "account": loc.account, **self.details,
        }


class EngineError(Exception):
    """A refusal a user must see: one clear sentence, with its catalogue entry."""

    def __init__(self, error: ErrorType, message: str, **details: Any) -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.details = details

    @property
    def code(self) -> str:
        return self.error.code

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.error.code, "title": self.error.title, "message": self.message,
                "how_to_fix": self.error.how_to_fix, **self.details}


def _load_areas() -> None:
    # Importing the area modules registers their error types.
    from workbook_engine.errors import (  # noqa: F401
        client_import,
        clients,
        collection,
        general,
        returned,
    )


_load_areas()
