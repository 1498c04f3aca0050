"""The inbox watcher: every file dropped in the inbox is archived, processed exactly once,
and either becomes a submission or is quarantined with a note in the outbox.

The path of one file (each step survives SIGKILL; see ``faults``):

1. wait until it is completely written (``files.wait_until_complete``);
2. claim its content hash in the database (``services.intake.claim_item``) - one worker wins;
3. copy it into ``archive/`` under its hash and record where;
4. call the processing service on the archived copy (it reads, validates, records the
   submission and writes the preview report in one transaction; it recognises a content it
   has already taken as a duplicate, which is what makes a repeated call after a crash
   harmless);
5. close the claim: processed, or quarantined (not a workbook of ours, unreadable, or
   failed/interrupted ``max_attempts`` times) with a copy in ``quarantine/`` and a note in
   the outbox; only then is the file removed from the inbox.

A fault of the machine rather than of the file (a full or read-only disk, a folder it may not
write, the database out of reach: ``environment``) at any step gives the claim back as it
was: the file stays in the inbox, nothing is set aside, the attempt does not count, no
partial file is left; the watcher says so (log, status file for `watch --health`) and waits,
longer each time, before it tries again.

At start, and at every rescan, the watcher also takes over claims left by dead workers
(from the archived copy when there is one). SIGTERM or SIGINT stop it after the file in hand.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Queue
from typing import Any, Protocol

from workbook_engine.domain import ClaimState
from workbook_engine.errors import EngineError
from workbook_engine.errors.intake import NOT_A_WORKBOOK_OF_OURS, PROCESSING_FAILED
from workbook_engine.intake.archive import (
    archive_original,
    file_sha256,
    quarantine_file,
    safe_file_name,
)
from workbook_engine.intake.environment import EnvironmentFault, environmental
from workbook_engine.intake.faults import fault_point
from workbook_engine.intake.isolation import ProcessingStopped, run_isolated
from workbook_engine.intake.files import is_ignored, wait_until_complete, waiting_files
from workbook_engine.intake.settings import IntakeRules, intake_rules
from workbook_engine.intake.status import WatchStatus
from workbook_engine.fileio import write_text_atomically
from workbook_engine.intake.templates import render
from workbook_engine.services.access.logins import dropped_by
from workbook_engine.services.pipeline import intake as claims
from workbook_engine.services.context import AppContext

log = logging.getLogger("workbook_engine.intake")


class ProcessOutcome(Protocol):
    """What the processing service answers (``services.processing.ProcessResult``)."""

    submission_id: int | None
    status: str
    duplicate_of: int | None
    error_count: int
    report_xlsx: Path | None
    report_html: Path | None
    message: str
    not_ours: bool


class Processor(Protocol):
    """The signature of ``services.processing.process_file``."""

    def __call__(self, ctx: AppContext, path: Path, *, actor_id: int | None,
                 original_name: str | None = None, sender_email: str | None = None,
                 move_original: bool = False) -> ProcessOutcome: ...


def default_processor(ctx: AppContext) -> Processor:
    """The processing service of the returned sheets (imported when first needed), with
    what its first file would pay done once here (``prepare_process``): a watcher forks a
    process per file, which inherits it."""
    from workbook_engine.services.pipeline.processing import prepare_process, process_file

    prepare_process(ctx)
    return process_file  # type: ignore[return-value]


@dataclass(frozen=True)
class Outcome:
    """How one received file ended, for the log, ``--json`` and e-mail replies."""

    original_name: str
    sha256: str
    state: str
    message: str
    status: str | None = None
    submission_id: int | None = None
    duplicate_of: int | None = None
    error_count: int = 0
    report_xlsx: Path | None = None
    report_html: Path | None = None
    quarantine_path: Path | None = None
    note_path: Path | None = None

    @property
    def submission(self) -> int | None:
        """The submission this file is (or duplicates)."""
        return self.submission_id or self.duplicate_of

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


class _LeaseKeeper:
    """Renews a held claim's lease in the background while the file is being processed."""

    def __init__(self, ctx: AppContext, claim_id: int, worker: str, seconds: float) -> None:
        self._args = (ctx, claim_id, worker, seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="intake-lease", daemon=True)

    def _run(self) -> None:
        ctx, claim_id, worker, seconds = self._args
        while not self._stop.wait(seconds / 3):
            try:
                if not claims.renew_lease(ctx, claim_id, worker=worker, lease_seconds=seconds):
                    log.warning("lost the claim on intake item %s", claim_id)
                    return
            except Exception as exc:  # noqa: BLE001 - a busy database delays a renewal only
                log.warning("could not renew the lease of intake item %s: %s", claim_id, exc)

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class Intake:
    """Takes received files in: claim, archive, process, close. Shared by folder and e-mail."""

    def __init__(self, ctx: AppContext, *, rules: IntakeRules | None = None,
                 outbox: Path | None = None, processor: Processor | None = None,
                 worker: str | None = None, stop: threading.Event | None = None,
                 isolate: bool = False) -> None:
        self.ctx = ctx
        #: Process each file in a process of its own (``intake/isolation.py``): the watcher.
        self.isolate = isolate
        self.rules = rules or intake_rules(ctx.rules.section("intake"))
        self.outbox = outbox or ctx.settings.outbox
        self._processor = processor
        self.worker = worker or claims.new_worker_id()
        self.stop = stop or threading.Event()
        for folder in (self.outbox, ctx.settings.archive, ctx.settings.quarantine):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # told, and waited out, at the first file
                log.warning("cannot make %s: %s", folder, environmental(exc) or exc)

    def _forget_connections(self) -> None:
        """In the processing child: never use the watcher's pooled database connections."""
        self.ctx.engine.dispose(close=False)

    @property
    def processor(self) -> Processor:
        if self._processor is None:
            self._processor = default_processor(self.ctx)
        return self._processor

    # -- one file --------------------------------------------------------------------------

    def take_file(self, path: Path, *, source: str = "inbox", original_name: str | None = None,
                  actor_id: int | None = None, sender_email: str | None = None,
                  written_by_us: bool = False) -> Outcome | None:
        """Take one received file in; None when it is not ours to take (gone, being written,
        held by another worker). ``written_by_us``: complete already (an e-mail attachment
        we saved), no need to wait for it to settle."""
        name = original_name or path.name
        if not written_by_us and not wait_until_complete(path, settle_seconds=self.rules.settle_seconds,
                                   grace_seconds=self.rules.incomplete_grace_seconds,
                                   should_stop=self.stop.is_set):
            return None
        try:
            sha = file_sha256(path)
        except FileNotFoundError:
            return None
        if actor_id is None and source == "inbox":  # who saved it, if their login is known
            actor_id = _machine_guarded(lambda: dropped_by(self.ctx, path))
        claim = _machine_guarded(lambda: claims.claim_item(
            self.ctx, sha256=sha, original_name=name, worker=self.worker,
            lease_seconds=self.rules.lease_seconds, source=source, source_path=str(path),
            sender_email=sender_email, retake_done=True))
        if isinstance(claim, claims.ClaimRefused):
            log.debug("%s is held by %s", name, claim.claimed_by)
            return None
        fault_point("after-claim")
        return self._guarded(claim, lambda: self._archive_and_process(
            claim, path, name, sha, actor_id=actor_id, sender_email=sender_email))

    def _archive_and_process(self, claim: claims.Claim, path: Path, name: str, sha: str, *,
                             actor_id: int | None, sender_email: str | None) -> Outcome | None:
        try:
            stored = archive_original(self.ctx.settings.archive, path, original_name=name)
        except FileNotFoundError:
            claims.release_claim(self.ctx, claim, worker=self.worker)
            return None
        if stored.sha256 != sha:  # rewritten since we looked: take it on the next round
            claims.release_claim(self.ctx, claim, worker=self.worker)
            return None
        claims.record_archive(self.ctx, claim.id, worker=self.worker,
                              archive_path=str(stored.path))
        fault_point("after-archive")
        outcome = self._process(claim, stored.path, actor_id=actor_id,
                                sender_email=sender_email)
        path.unlink(missing_ok=True)  # taken in (or set aside): it leaves the inbox now
        return outcome

    def _guarded(self, claim: claims.Claim, work: Callable[[], Outcome | None]
                 ) -> Outcome | None:
        """Run the work on a held claim; a fault of the machine gives the claim back as it
        was (the attempt does not count) and is raised as :class:`EnvironmentFault`."""
        return _machine_guarded(work, on_fault=lambda reason: self._give_back(claim, reason))

    def _give_back(self, claim: claims.Claim, reason: str) -> None:
        try:
            claims.give_back(self.ctx, claim, worker=self.worker)
        except Exception as again:  # noqa: BLE001 - the database may be what is down
            log.warning("could not give back the claim on %s yet: %s",
                        claim.original_name, environmental(again) or again)
        log.warning("waiting: %s; %s stays where it is, nothing was set aside",
                    reason, claim.original_name)

    def recover(self, sources: tuple[str, ...] = ("inbox",)) -> list[Outcome]:
        """Take over the claims of dead workers, and failed ones, and finish them."""
        outcomes = []
        for sha in _machine_guarded(lambda: claims.recoverable(
                self.ctx, worker=self.worker, sources=sources)):
            if self.stop.is_set():
                break
            claim = _machine_guarded(lambda sha=sha: claims.reclaim(
                self.ctx, sha, worker=self.worker, lease_seconds=self.rules.lease_seconds))
            if isinstance(claim, claims.ClaimRefused):
                continue
            outcome = self._guarded(claim, lambda claim=claim: self._recover_one(claim))
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def _recover_one(self, claim: claims.Claim) -> Outcome | None:
        source = Path(claim.source_path) if claim.source_path else None
        archived = Path(claim.archive_path) if claim.archive_path else None
        if archived is None or not archived.exists():
            if source is None or not source.exists():
                # Killed between claim and archive, and the file is gone from the inbox: it
                # was archived (copy, then remove) - find it by its hash.
                archived = self._archived_copy(claim)
                if archived is None:
                    claims.finish_claim(self.ctx, claim.id, worker=self.worker,
                                        state=ClaimState.QUARANTINED,
                                        error="the received file is nowhere to be found")
                    log.error("%s: the received file is nowhere to be found", claim.original_name)
                    return None
            else:
                stored = archive_original(self.ctx.settings.archive, source,
                                          original_name=claim.original_name)
                if stored.sha256 != claim.sha256:
                    claims.release_claim(self.ctx, claim, worker=self.worker)
                    return None
                archived = stored.path
            claims.record_archive(self.ctx, claim.id, worker=self.worker,
                                  archive_path=str(archived))
        if source is not None and source.exists() and file_sha256(source) == claim.sha256:
            source.unlink(missing_ok=True)  # archived before the crash; the copy is safe
        return self._process(claim, archived, actor_id=None, sender_email=claim.sender_email)

    def _archived_copy(self, claim: claims.Claim) -> Path | None:
        folder = self.ctx.settings.archive / claim.sha256[:2]
        for candidate in sorted(folder.glob(f"{claim.sha256}*")):
            if not candidate.name.endswith(".tmp"):
                return candidate
        return None

    def _process(self, claim: claims.Claim, archived: Path, *, actor_id: int | None,
                 sender_email: str | None) -> Outcome:
        name = claim.original_name
        log.info("received %s (sha256 %s, attempt %d)", name, claim.sha256[:12], claim.attempts)
        if claim.attempts > self.rules.max_attempts:
            return self._quarantine(
                claim, archived, PROCESSING_FAILED.how_to_fix,
                f"processing failed {claim.attempts - 1} times (it stopped or crashed while "
                "working on this file), so it is set aside")
        try:
            processor = self.processor  # loaded (and prepared) here, not in each child
            with _LeaseKeeper(self.ctx, claim.id, self.worker, self.rules.lease_seconds):
                def work() -> ProcessOutcome:
                    return processor(self.ctx, archived, actor_id=actor_id,
                                     original_name=name, sender_email=sender_email,
                                     move_original=False)

                result = (run_isolated(work, before=self._forget_connections)
                          if self.isolate else work())
        except Exception as exc:  # noqa: BLE001 - a failure must never stop the watcher
            if environmental(exc) is not None:
                raise  # the machine's fault, not the file's: it does not count
            message = exc.message if isinstance(exc, EngineError | ProcessingStopped) \
                else f"{type(exc).__name__}: {exc}"
            log.exception("failed %s: %s", name, message)
            if claim.attempts >= self.rules.max_attempts:
                return self._quarantine(claim, archived, PROCESSING_FAILED.how_to_fix,
                                        f"processing failed {claim.attempts} times; the last "
                                        f"error was: {message}")
            claims.finish_claim(self.ctx, claim.id, worker=self.worker,
                                state=ClaimState.FAILED, error=message)
            return Outcome(name, claim.sha256, ClaimState.FAILED.value, message)
        if result.not_ours or (result.duplicate_of and str(result.status) == "quarantined"):
            # (a duplicate of a file set aside: set aside again; the previous attempt may
            # have stopped, on a full disk, before the copy and the note were written)
            return self._quarantine(claim, archived, NOT_A_WORKBOOK_OF_OURS.how_to_fix,
                                    result.message, result=result)
        fault_point("before-report")
        submission_id, duplicate_of, message = \
            result.submission_id, result.duplicate_of, result.message
        if duplicate_of and claim.attempts > 1 and claim.previous_state != ClaimState.PROCESSED:
            # Claims are unique per content, so the "earlier" submission of an interrupted
            # claim is the one its own previous attempt committed: this is not a duplicate.
            submission_id, duplicate_of = duplicate_of, None
            message = (f"{name} was taken in as submission {submission_id} "
                       f"({str(result.status).replace('_', ' ')}); the engine had stopped "
                       "before confirming it.")
        claims.finish_claim(self.ctx, claim.id, worker=self.worker, state=ClaimState.PROCESSED,
                            submission_id=submission_id or duplicate_of)
        outcome = Outcome(name, claim.sha256, ClaimState.PROCESSED.value, message,
                          status=str(result.status), submission_id=submission_id,
                          duplicate_of=duplicate_of, error_count=result.error_count,
                          report_xlsx=result.report_xlsx, report_html=result.report_html)
        log.info("result %s: %s%s; report %s", name, outcome.status,
                 f" (duplicate of submission {duplicate_of})" if duplicate_of
                 else f" (submission {submission_id})", result.report_xlsx or "none")
        return outcome

    def _quarantine(self, claim: claims.Claim, archived: Path, how_to_fix: str, reason: str,
                    result: ProcessOutcome | None = None) -> Outcome:
        fault_point("before-report")
        name = claim.original_name
        stored = quarantine_file(self.ctx.settings.quarantine, archived, reason,
                                 original_name=name, move=False)
        note = self.outbox / f"{Path(safe_file_name(name)).stem}-{claim.sha256[:8]}" \
                             ".not-taken-in.txt"
        write_text_atomically(note, render(
            self.ctx.settings.templates_dir, "intake_quarantine.txt.j2", original_name=name,
            reason=reason, how_to_fix=how_to_fix, quarantine_path=stored.path,
            sha256=claim.sha256))
        submission_id = result.submission_id if result is not None else None
        claims.finish_claim(self.ctx, claim.id, worker=self.worker,
                            state=ClaimState.QUARANTINED, submission_id=submission_id,
                            error=reason)
        log.warning("result %s: quarantined (%s); report %s", name, reason, note)
        return Outcome(name, claim.sha256, ClaimState.QUARANTINED.value, reason,
                       status=str(result.status) if result is not None else None,
                       submission_id=submission_id, quarantine_path=stored.path,
                       note_path=note)


def _machine_guarded(work: Callable[[], Any],  # noqa: ANN401
                     on_fault: Callable[[str], None] = lambda _reason: None) -> Any:
    """Run work; a fault of the machine is told to ``on_fault`` and raised as
    :class:`EnvironmentFault` (anything else goes on as it is)."""
    try:
        return work()
    except Exception as exc:
        reason = environmental(exc)
        if reason is None:
            raise
        on_fault(reason)
        raise EnvironmentFault(reason) from exc


class FolderWatcher:
    """Watches one inbox folder: takes what is waiting, then every file that arrives.

    A fault of the machine (``EnvironmentFault``) stops the round: the watcher keeps running,
    says so in its log and status file, and tries again after ``backoff_seconds``, doubled
    at each fault in a row up to ``max_backoff_seconds`` (rules/intake.yaml).
    """

    def __init__(self, intake: Intake, inbox: Path, *, polling: bool = False) -> None:
        self.intake = intake
        self.inbox = inbox
        self.polling = polling
        self.status = WatchStatus(intake.ctx.home, inbox)
        self.fault: str | None = None
        self._backoff = intake.rules.backoff_seconds
        self._retry_at = 0.0
        inbox.mkdir(parents=True, exist_ok=True)

    def run_once(self) -> list[Outcome]:
        """Finish interrupted work, take every file waiting, and return (``--once``). A fault
        of the machine ends the round; ``fault`` says what it is."""
        outcomes: list[Outcome] = []
        try:
            self._round(outcomes)
        except EnvironmentFault as fault:
            self._waiting(fault)
        else:
            self._healthy()
        return outcomes

    def _round(self, outcomes: list[Outcome]) -> None:
        def keep(outcome: Outcome | None) -> None:
            if outcome is not None:
                outcomes.append(outcome)
                self.status.taken_in()
            self.status.set("watching")

        for outcome in self.intake.recover():
            keep(outcome)
        for path in waiting_files(self.inbox):
            if self.intake.stop.is_set():
                break
            self.status.set("processing", file=path.name)
            keep(self.intake.take_file(path))
        # Failed files are retried (each retry counts) until they pass or are quarantined.
        while not self.intake.stop.is_set():
            retried = self.intake.recover()
            if not retried:
                break
            for outcome in retried:
                keep(outcome)

    def _waiting(self, fault: EnvironmentFault) -> None:
        self.fault = fault.reason
        self._retry_at = time.monotonic() + self._backoff
        retry = time.strftime("%H:%M:%S", time.localtime(time.time() + self._backoff))
        log.warning("waiting %.0f s (until %s) before trying again: %s", self._backoff, retry,
                    fault.reason)
        self.status.set("waiting", fault=fault.reason, retry_at=retry)
        self._backoff = min(self._backoff * 2, self.intake.rules.max_backoff_seconds)

    def _healthy(self) -> None:
        if self.fault is not None:
            log.info("the fault is gone; taking files in again")
        self.fault = None
        self._backoff = self.intake.rules.backoff_seconds
        self.status.set("watching")

    def run_forever(self, on_outcome: Callable[[Outcome], None] = lambda _o: None) -> None:
        """Watch until stopped (SIGTERM/SIGINT, or ``intake.stop`` set)."""
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        arrived: Queue[Path] = Queue()

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.is_directory or event.event_type not in ("created", "modified",
                                                                   "moved", "closed"):
                    return
                target = getattr(event, "dest_path", "") or event.src_path
                path = Path(target if isinstance(target, str) else target.decode())
                if path.parent == self.inbox_path and not is_ignored(path.name):
                    arrived.put(path)

        Handler.inbox_path = self.inbox.resolve()  # type: ignore[attr-defined]
        observer = (PollingObserver(timeout=max(self.intake.rules.settle_seconds, 1.0))
                    if self.polling else Observer())
        observer.schedule(Handler(), str(self.inbox.resolve()), recursive=False)
        observer.start()
        log.info("watching %s%s", self.inbox, " (polling)" if self.polling else "")
        try:
            for outcome in self.run_once():
                on_outcome(outcome)
            next_scan = time.monotonic() + self.intake.rules.rescan_seconds
            while not self.intake.stop.is_set():
                try:
                    path = arrived.get(timeout=0.5)
                except Empty:
                    path = None
                if self.fault is not None:  # waiting out a fault: a rescan takes it all
                    next_scan = min(next_scan, self._retry_at)
                elif path is not None and path.exists():
                    try:
                        self.status.set("processing", file=path.name)
                        outcome = self.intake.take_file(path.parent / path.name)
                    except EnvironmentFault as fault:
                        self._waiting(fault)
                        next_scan = self._retry_at
                        continue
                    self.status.set("watching")
                    if outcome is not None:
                        self.status.taken_in()
                        on_outcome(outcome)
                if time.monotonic() >= next_scan:
                    for outcome in self.run_once():
                        on_outcome(outcome)
                    next_scan = (self._retry_at if self.fault is not None else
                                 time.monotonic() + self.intake.rules.rescan_seconds)
        finally:
            observer.stop()
            observer.join()
            self.status.close()
            log.info("stopped watching %s", self.inbox)


def stop_on_signals(stop: threading.Event) -> Callable[[], int | None]:
    """SIGTERM and SIGINT set ``stop``: the watcher finishes the file in hand, then exits.

    Returns what tells which of the two came last (``None`` while none has): a service
    manager's SIGTERM is a normal stop, a person's Ctrl+C (SIGINT) an interruption, whose
    exit code the command line reports (130)."""
    received: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        log.info("received %s; stopping after the file in hand", signal.Signals(signum).name)
        received.append(signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return lambda: received[-1] if received else None
