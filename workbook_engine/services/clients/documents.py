"""A client's documents: attach, list, download, remove.

The bytes live on disk under ``<home>/documents/<first two hex digits>/<sha256>``, so the
same file attached twice is stored once; a file is deleted when no document refers to it.
The size is bounded by ``document_max_bytes`` and the type is recognised from the content
(:func:`sniff_type`); a name whose extension says otherwise is refused.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from workbook_engine.db.uow import snapshot
from workbook_engine.domain import Client, Document
from workbook_engine.errors import EngineError
from workbook_engine.errors.clients import (
    DOCUMENT_TOO_LARGE,
    DOCUMENT_TYPE_NOT_ALLOWED,
    DOCUMENT_UNREADABLE,
)
from workbook_engine.errors.general import DUPLICATE_VALUE
from workbook_engine.services.clients.lifecycle import client_rules
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup.lookup import get_or_fail
from workbook_engine.validation.clients import FieldProblem, check_name, raise_first


@dataclass(frozen=True)
class FileType:
    """A recognised file type: its short name, MIME type and the extensions it may carry."""

    name: str
    mime: str
    extensions: tuple[str, ...]
    description: str


TYPES = {t.name: t for t in (
    FileType("pdf", "application/pdf", ("pdf",), "a PDF document"),
    FileType("png", "image/png", ("png",), "a PNG image"),
    FileType("jpeg", "image/jpeg", ("jpg", "jpeg", "jpe"), "a JPEG image"),
    FileType("gif", "image/gif", ("gif",), "a GIF image"),
    FileType("tiff", "image/tiff", ("tif", "tiff"), "a TIFF image"),
    FileType("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             ("docx",), "a Word document"),
    FileType("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             ("xlsx", "xlsm"), "an Excel workbook"),
    FileType("zip", "application/zip", ("zip",), "a ZIP archive"),
    FileType("text", "text/plain", ("txt", "csv", "text", "md"), "plain text"),
)}


def sniff_type(data: bytes) -> FileType | None:
    """The type of a file from its first bytes (and, for a ZIP, its members)."""
    if data.startswith(b"%PDF-"):
        return TYPES["pdf"]
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return TYPES["png"]
    if data.startswith(b"\xff\xd8\xff"):
        return TYPES["jpeg"]
    if data.startswith((b"GIF87a", b"GIF89a")):
        return TYPES["gif"]
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return TYPES["tiff"]
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names:
            return TYPES["docx"]
        if "xl/workbook.xml" in names:
            return TYPES["xlsx"]
        return TYPES["zip"]
    if b"\x00" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return TYPES["text"]


def _stored_path(ctx: AppContext, sha256: str) -> Path:
    return ctx.settings.documents_dir / sha256[:2] / sha256


def _read_source(source: Path, limit: int) -> bytes:
    try:
        size = source.stat().st_size
        if size > limit:
            raise EngineError(DOCUMENT_TOO_LARGE, f"The file {source.name} is {size:,} bytes; "
                              f"documents may be at most {limit:,} bytes.",
                              field="file", value=str(source))
        with source.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise EngineError(DOCUMENT_UNREADABLE, f"The file {source} cannot be read "
                          f"({exc.strerror or type(exc).__name__}).", field="file",
                          value=str(source)) from None
    if len(data) > limit:  # it grew while we looked
        raise EngineError(DOCUMENT_TOO_LARGE, f"The file {source.name} is larger than "
                          f"{limit:,} bytes.", field="file", value=str(source))
    return data


def _write_once(path: Path, data: bytes) -> None:
    if path.is_file():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def attach_document(ctx: AppContext, *, actor_id: int | None, client_id: int, source: Path,
                    name: str | None = None, description: str | None = None) -> int:
    """Attach a file to a client; returns the document id."""
    rules = client_rules(ctx)
    source = Path(source)
    problems: list[FieldProblem] = []
    title = check_name("name", name or source.stem, 200, problems)
    text = check_name("description", description, 500, problems)
    raise_first(problems)
    data = _read_source(source, rules.document_max_bytes)
    kind = sniff_type(data)
    allowed = ", ".join(rules.document_types)
    if kind is None or kind.name not in rules.document_types:
        what = kind.description if kind else "not a recognised file type"
        raise EngineError(DOCUMENT_TYPE_NOT_ALLOWED, f"The file {source.name} is {what}; "
                          f"accepted types are {allowed}.", field="file", value=source.name)
    extension = source.suffix.lower().lstrip(".")
    if extension and extension not in kind.extensions:
        raise EngineError(DOCUMENT_TYPE_NOT_ALLOWED, f"The file {source.name} is named "
                          f".{extension} but its content is {kind.description}; rename it "
                          f".{kind.extensions[0]} or attach the right file.", field="file",
                          value=source.name)
    digest = hashlib.sha256(data).hexdigest()
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        client = get_or_fail(s, Client, client_id, "client")
        if s.scalar(select(Document.id).where(Document.client_id == client.id,
                                              Document.sha256 == digest)):
            raise EngineError(DUPLICATE_VALUE, f"The file {source.name} is already attached "
                              f"to client {client.display_name} (id {client.id}).",
                              field="file", value=source.name)
        _write_once(_stored_path(ctx, digest), data)
        document = Document(client_id=client.id, name=title or source.name,
                            description=text, file_name=source.name, content_type=kind.mime,
                            size=len(data), sha256=digest, uploaded_at=uow.now,
                            uploaded_by_id=actor_id)
        s.add(document)
        uow.audit("document.attach", document)
        uow.commit()
        return document.id


def document_view(document: Document) -> dict[str, Any]:
    return {"id": document.id, "client_id": document.client_id, "name": document.name,
            "description": document.description, "file_name": document.file_name,
            "content_type": document.content_type, "size": document.size,
            "sha256": document.sha256, "uploaded_at": document.uploaded_at}


def list_documents(ctx: AppContext, client_id: int) -> list[dict[str, Any]]:
    """A client's documents, oldest first."""
    with ctx.session_factory() as s:
        get_or_fail(s, Client, client_id, "client")
        return [document_view(d) for d in s.scalars(
            select(Document).where(Document.client_id == client_id).order_by(Document.id))]


def download_document(ctx: AppContext, document_id: int, target: Path,
                      overwrite: bool = False) -> Path:
    """Copy a document's bytes to a file (or into a folder under its file name)."""
    with ctx.session_factory() as s:
        document = get_or_fail(s, Document, document_id, "document")
        target = Path(target)
        if target.is_dir():
            target = target / document.file_name
        if target.exists() and not overwrite:
            raise EngineError(DUPLICATE_VALUE, f"The file {target} already exists; choose "
                              "another path or allow overwriting.", field="path",
                              value=str(target))
        stored = _stored_path(ctx, document.sha256)
        try:
            data = stored.read_bytes()
        except OSError:
            data = b""
        if hashlib.sha256(data).hexdigest() != document.sha256:
            raise EngineError(DOCUMENT_UNREADABLE, f"The stored bytes of document "
                              f"{document.id} ('{document.name}') are missing or damaged; "
                              "attach the file again.", field="document",
                              value=str(document_id))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target


def remove_document(ctx: AppContext, *, actor_id: int | None, document_id: int) -> None:
    """Remove a document; its bytes go too unless another document has the same content."""
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        document = get_or_fail(s, Document, document_id, "document")
        before = snapshot(document)
        digest = document.sha256
        s.delete(document)
        s.flush()
        uow.audit("document.remove", document, before=before, after={})
        still_used = s.scalar(select(func.count()).select_from(Document)
                              .where(Document.sha256 == digest))
        uow.commit()
    if not still_used:
        _stored_path(ctx, digest).unlink(missing_ok=True)
