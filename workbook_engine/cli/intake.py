"""`watch`: the inbox watcher and e-mail intake, as a command (a thin shell)."""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from workbook_engine.cli.common import state
from workbook_engine.cli.main import EXIT_INTERRUPTED
from workbook_engine.cli.output import err_console, print_json, print_table
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import INVALID_VALUE


def _load_processor(spec: str) -> Any:
    module, _, name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), name or "process_file")
    except (ImportError, AttributeError) as exc:
        raise EngineError(INVALID_VALUE, f"--processor {spec!r} cannot be loaded ({exc}); "
                          "give it as package.module:function.") from None


def register(app: typer.Typer) -> None:
    """Add the ``watch`` command to the root app."""

    @app.command()
    def watch(
        ctx: typer.Context,
        inbox: Annotated[Optional[Path], typer.Option(
            "--inbox", help="Folder to watch. Default: inbox/ in the home folder.")] = None,
        outbox: Annotated[Optional[Path], typer.Option(
            "--outbox", help="Where notes on files not taken in go. Default: outbox/.")] = None,
        polling: Annotated[bool, typer.Option(
            "--polling", help="Poll the folder instead of waiting for file-system events "
            "(network shares, where events do not arrive).")] = False,
        once: Annotated[bool, typer.Option(
            "--once", help="Take what is waiting (and finish interrupted work), then "
            "exit.")] = False,
        maildir: Annotated[Optional[Path], typer.Option(
            "--maildir", help="Read sheets e-mailed into this Maildir instead of a "
            "folder.")] = None,
        settle: Annotated[Optional[float], typer.Option(
            "--settle", help="Seconds a file must stay unchanged before it is read "
            "(default: rules/intake.yaml).")] = None,
        processor: Annotated[Optional[str], typer.Option(
            "--processor", hidden=True,
            help="module:function to process files with (tests, plug-ins).")] = None,
        health: Annotated[bool, typer.Option(
            "--health", help="Say what the watchers of this home folder are doing, and "
            "exit 1 if none is running or one waits out a fault (for monitoring).")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
    ) -> None:
        """Take in sheets dropped in the inbox (or e-mailed): archive, process, report."""
        if health:
            raise typer.Exit(_health(state(ctx).context(require_schema=False).home,
                                     as_json))
        from workbook_engine.intake.mail import MailIntake
        from workbook_engine.intake.watcher import FolderWatcher, Intake, stop_on_signals

        logging.getLogger("workbook_engine").setLevel(logging.INFO)
        cli = state(ctx)
        app_ctx = cli.context()
        stop = threading.Event()
        signal_received = stop_on_signals(stop)
        intake = Intake(app_ctx, outbox=outbox, stop=stop, isolate=True,
                        processor=_load_processor(processor) if processor else None)
        if settle is not None:
            intake.rules = intake.rules.with_(settle_seconds=settle)
        if maildir is not None:
            made = not (maildir / "new").is_dir()
            mail = MailIntake(intake, maildir)
            if made:  # a mistyped path would otherwise read as a mailbox with no mail
                err_console().print(f"The Maildir {maildir} did not exist: it was made (new/, "
                                    "cur/, tmp/) and is empty. Deliver the sheets' e-mail "
                                    "address into it, or give the path of the one your mail "
                                    "system fills.", highlight=False)
            if once:
                outcomes = mail.run_once()
                if as_json:
                    print_json([{"message": o.key, "sender": o.sender, "accepted": o.accepted,
                                 "reason": o.reason,
                                 "sheets": [{**(s.outcome.as_dict() if s.outcome else {}),
                                             "refusal": s.refusal} for s in o.sheets]}
                                for o in outcomes])
                else:
                    print_table("E-mails", ["message", "sender", "accepted", "reason"],
                                [(o.key, o.sender, o.accepted, o.reason) for o in outcomes])
                return
            while not stop.is_set():
                mail.run_once()  # interrupted messages are still in new/: taken over here
                stop.wait(intake.rules.rescan_seconds)
            _exit_if_interrupted(signal_received())
            return
        watcher = FolderWatcher(intake, inbox or app_ctx.settings.inbox, polling=polling)
        if once:
            outcomes = watcher.run_once()
            watcher.status.close()
            if as_json:
                print_json([o.as_dict() for o in outcomes])
            else:
                print_table("Files taken in", ["file", "result", "submission", "report"],
                            [(o.original_name, o.status or o.state, o.submission,
                              o.report_xlsx or o.note_path) for o in outcomes])
            if watcher.fault is not None:
                err_console().print(f"Waiting: {watcher.fault}. The files not taken in stay "
                                    "in the inbox and nothing was set aside; run again once "
                                    "it is fixed.", markup=False, highlight=False)
                raise typer.Exit(1)
            return
        watcher.run_forever()
        _exit_if_interrupted(signal_received())


def _exit_if_interrupted(signum: int | None) -> None:
    """Ctrl+C (SIGINT) ends the watcher with the exit code of an interruption (130), as
    every command's; SIGTERM, a service manager's stop, is a normal end (0)."""
    if signum == signal.SIGINT:
        err_console().print("Stopped.")
        raise typer.Exit(EXIT_INTERRUPTED)


def _health(home: Path, as_json: bool) -> int:
    """Print every watcher's status; 0 when at least one runs and none waits or died."""
    from workbook_engine.intake.status import watchers

    found = watchers(home)
    if as_json:
        print_json(found)
    elif not found:
        err_console().print(f"No watcher is running for {home}.", highlight=False)
    else:
        print_table(f"Watchers of {home}", ["pid", "state", "since", "file", "fault",
                                            "retry at", "taken in", "running"],
                    [(w.get("pid"), w.get("state"), w.get("since"), w.get("file"),
                      w.get("fault"), w.get("retry_at"), w.get("taken_in"),
                      "yes" if w["alive"] else "no (died)") for w in found])
    healthy = bool(found) and all(w["alive"] and w.get("state") != "waiting" for w in found)
    return 0 if healthy else 1
