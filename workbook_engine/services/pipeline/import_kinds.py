"""The registry of import workbook kinds: which service reads, processes and approves each.

A workbook that is not a collection sheet is an *import*: the client import, or a setup or
migration workbook (offices ... savings, and the Mifos X / Fineract transaction histories).
Each import kind is one row of :data:`IMPORT_KINDS`: how its signed kind names are known,
and the module and names of its three functions: one that recognises an unsigned Mifos X /
Fineract workbook of the kind, one that processes a workbook, one that approves it. Processing (``services.pipeline.processing``)
and approval (``services.pipeline.submissions``) look a kind up here and never import an
import service themselves, so the import services may use the pipeline's functions
(``set_status``, ``check_decider``, ...) without an import circle; adding a kind is one row.

The modules are imported when a kind is first used (``importlib``): listing submissions or
starting the command line loads no workbook code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from workbook_engine.workbooks.client_import_sheet import KIND as CLIENT_IMPORT_KIND
from workbook_engine.workbooks.setup_import_sheet import kind_of

ImportProcess = Callable[..., dict[str, Any]]
"""``process(ctx, book, stored, *, name, received, metadata, actor_id, sender_email,
loan_officer_id)`` -> the fields of ``ProcessResult``."""

ImportApprove = Callable[..., dict[str, Any]]
"""``approve(ctx, *, submission_id, by)`` -> the submission as shown."""


@dataclass(frozen=True)
class ImportKind:
    """One kind of import workbook and the module that serves it."""

    name: str
    owns: Callable[[str], bool]  # the signed workbook kind names of this import
    module: str
    recognises_fn: str  # (book) -> bool: an unsigned Mifos X / Fineract workbook of the kind
    process_fn: str
    approve_fn: str

    def _function(self, name: str) -> Any:
        module: ModuleType = importlib.import_module(self.module)
        return getattr(module, name)

    def recognises(self, book: Any) -> bool:
        """True for an unsigned Mifos X / Fineract workbook of this kind."""
        return bool(self._function(self.recognises_fn)(book))

    @property
    def process(self) -> ImportProcess:
        """The service that dry-runs a workbook of this kind and records its submission."""
        return self._function(self.process_fn)  # type: ignore[no-any-return]

    @property
    def approve(self) -> ImportApprove:
        """The service that posts an approved submission of this kind."""
        return self._function(self.approve_fn)  # type: ignore[no-any-return]


IMPORT_KINDS: tuple[ImportKind, ...] = (
    ImportKind("client import", lambda kind: kind == CLIENT_IMPORT_KIND,
               "workbook_engine.services.imports.client_import", "is_fineract",
               "process_client_import", "approve_client_import"),
    ImportKind("setup and migration workbooks", lambda kind: kind_of(kind) is not None,
               "workbook_engine.services.imports.setup_import", "is_fineract_setup",
               "process_setup_import", "approve_setup_import"),
)
"""Every import kind, in the order an unsigned workbook is tried against them."""


def signed_import(kind: str) -> ImportKind | None:
    """The import kind a signed workbook (or a submission) of ``kind`` belongs to, or None
    for a collection sheet."""
    return next((k for k in IMPORT_KINDS if k.owns(kind)), None)


def unsigned_import(book: Any) -> ImportKind | None:
    """The import kind of an unsigned workbook (a Mifos X / Fineract one), or None."""
    return next((k for k in IMPORT_KINDS if k.recognises(book)), None)


__all__ = ["IMPORT_KINDS", "ImportKind", "signed_import", "unsigned_import"]
