"""`serve` (the supervisor web pages) and `staff set-password`."""

from __future__ import annotations

import errno
import sys
from typing import Annotated, Optional

import typer

from workbook_engine.cli.common import state, sub_app
from workbook_engine.cli.output import say
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import INVALID_VALUE


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    proxy_headers: Annotated[bool, typer.Option(
        "--proxy-headers", help="Behind a reverse proxy (HTTPS): believe its "
        "X-Forwarded-Proto and X-Forwarded-For, from the addresses of "
        "--forwarded-allow-ips only, so that session cookies are Secure and sign-in "
        "throttling sees the real client address.")] = False,
    forwarded_allow_ips: Annotated[Optional[str], typer.Option(
        "--forwarded-allow-ips", help="The proxy's addresses or networks, comma-separated "
        "(default 127.0.0.1); implies --proxy-headers.")] = None,
) -> None:
    """Start the web pages: approval queue, reports, uploads, sheets, cash."""
    import uvicorn

    from workbook_engine.web import app_for_serving, server_options

    engine = state(ctx).context()
    options = server_options(proxy_headers=proxy_headers or forwarded_allow_ips is not None,
                             forwarded_allow_ips=forwarded_allow_ips)
    behind = (f", behind the proxy at {options['forwarded_allow_ips']}"
              if options["proxy_headers"] else "")
    say(f"Serving {engine.home} on http://{host}:{port}/{behind} (Ctrl+C to stop)")
    try:
        uvicorn.run(app_for_serving(engine), host=host, port=port, log_level="warning",
                    **options)
    except SystemExit as exc:  # uvicorn's way of saying it could not start
        if exc.code:
            _check_can_listen(host, port)
        raise


def _check_can_listen(host: str, port: int) -> None:
    """Refuse, naming the address and how to fix it, when the server cannot listen there
    (uvicorn logs its bare bind error and exits)."""
    import socket

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise EngineError(INVALID_VALUE, f"{host}:{port} is in use (by another program, "
                              "or another `workbook-engine serve`); choose another with "
                              "--port.") from None
        raise EngineError(INVALID_VALUE, f"The web pages cannot listen on {host}:{port} "
                          f"({exc.strerror or exc}); give --host an address of this machine "
                          "(127.0.0.1, or 0.0.0.0 for all) and --port a free port (1024 or "
                          "above).") from None


def set_password(
    ctx: typer.Context,
    staff_id: Annotated[int, typer.Argument(metavar="ID", help="The member of staff's id.")],
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of standard input "
        "instead of prompting.")] = False,
) -> None:
    """Set a member of staff's password for the web pages (their sessions end)."""
    from workbook_engine.services.access.auth import set_password as service

    cli = state(ctx)
    engine = cli.context()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("New password", hide_input=True)
        if typer.prompt("Repeat it", hide_input=True) != password:
            raise EngineError(INVALID_VALUE, "The two passwords differ; nothing was changed.")
    service(engine, actor_id=cli.actor_id(engine), staff_id=staff_id, password=password)
    say(f"Password set for staff {staff_id}.")


def register(root: typer.Typer) -> None:
    """Add `serve`, and `set-password` to the existing `staff` group."""
    root.command("serve")(serve)
    sub_app(root, "staff", "Staff: browse and set up.").command("set-password")(set_password)
