"""Rendering pages: the jinja2 environment (autoescape on), filters and the error page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse

from workbook_engine.money import money_text

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


def money(value: Decimal | str | None, digits: int = 2) -> str:
    """1234.5 -> '1,234.50' (also an amount kept as text in a submission's JSON);
    None -> '' (``money_text``, as the command line writes it)."""
    if value is None:
        return ""
    return money_text(Decimal(str(value)), digits)


def when(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") + " UTC"
    return value.isoformat()


def make_environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = money
    env.filters["when"] = when
    env.filters["label"] = lambda text: str(text or "").replace("_", " ")
    return env


ENV = make_environment()


def page(template: str, *, status: int = 200, headers: dict[str, str] | None = None,
         **data: Any) -> HTMLResponse:
    """A rendered page; ``data`` must carry ``user`` (None when signed out)."""
    data.setdefault("user", None)
    data.setdefault("flash", None)
    data.setdefault("title", "")
    body = ENV.get_template(template).render(**data)
    return HTMLResponse(body, status_code=status, headers=headers)


def error_page(status: int, title: str, message: str, how_to_fix: str = "",
               user: Any = None, code: str | None = None,
               reference: str | None = None) -> HTMLResponse:
    """A readable page for every refusal or failure (never a traceback); ``reference``
    names a crash's details in the server's error log."""
    return page("error.html.j2", status=status, title=title, message=message,
                how_to_fix=how_to_fix, code=code, user=user, reference=reference)
