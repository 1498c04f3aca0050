"""Where the engine works: its home folder, database, clock, rules and signing secret.

Every setting comes from, in order: an explicit argument (the CLI's options), an environment
variable, then a default relative to the home folder.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The source checkout; default rules/ and templates/ live here."""

ENV_HOME = "WORKBOOK_ENGINE_HOME"
ENV_DB = "WORKBOOK_ENGINE_DB"
ENV_TODAY = "WORKBOOK_ENGINE_TODAY"
ENV_RULES = "WORKBOOK_ENGINE_RULES"
ENV_SECRET = "WORKBOOK_ENGINE_SECRET_FILE"


class Clock:
    """The engine's idea of today: the real date, or a fixed one for demos and tests."""

    def __init__(self, fixed_today: dt.date | None = None) -> None:
        self.fixed_today = fixed_today

    def today(self) -> dt.date:
        return self.fixed_today or dt.date.today()

    def now(self) -> dt.datetime:
        """The current UTC time (naive); on a fixed day, that day at the current time."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        if self.fixed_today is None:
            return now
        return dt.datetime.combine(self.fixed_today, now.time())


@dataclass(frozen=True)
class Settings:
    """The resolved configuration of one engine instance."""

    home: Path
    database_url: str
    rules_dir: Path
    templates_dir: Path
    secret_file: Path
    clock: Clock = field(default_factory=Clock)

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def outbox(self) -> Path:
        return self.home / "outbox"

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def quarantine(self) -> Path:
        return self.home / "quarantine"

    @property
    def documents_dir(self) -> Path:
        return self.home / "documents"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    def ensure_folders(self) -> None:
        """Create the working folders if they are missing."""
        for folder in (self.inbox, self.outbox, self.archive, self.quarantine,
                       self.documents_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)

    @classmethod
    def resolve(
        cls,
        home: Path | str | None = None,
        database_url: str | None = None,
        today: dt.date | str | None = None,
        rules_dir: Path | str | None = None,
        secret_file: Path | str | None = None,
    ) -> Settings:
        """Build settings from arguments, then the environment, then defaults."""
        home_path = Path(home or os.environ.get(ENV_HOME) or Path.cwd()).resolve()
        url = database_url or os.environ.get(ENV_DB) or \
            f"sqlite:///{home_path / 'workbook-engine.sqlite3'}"
        today_value = today or os.environ.get(ENV_TODAY) or None
        if isinstance(today_value, str):
            today_value = parse_iso_date(today_value, "today")
        rules = Path(rules_dir or os.environ.get(ENV_RULES) or _default_dir(home_path, "rules"))
        secret = Path(secret_file or os.environ.get(ENV_SECRET)
                      or home_path / "secrets" / "signing.key")
        return cls(home=home_path, database_url=url, rules_dir=rules,
                   templates_dir=_default_dir(home_path, "templates"), secret_file=secret,
                   clock=Clock(today_value))


def runtime_dir() -> Path | None:
    """A folder of this machine's run time that only this user can open (the command
    server's socket, the watchers' status files): ``$XDG_RUNTIME_DIR/workbook-engine``, else
    ``/tmp/workbook-engine-<uid>``; None when it is not safe to use. Kept off the home
    folder's disk, so a full disk there does not silence the watcher's status."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(base) / "workbook-engine" if base else \
        Path("/tmp") / f"workbook-engine-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = folder.lstat()
    except OSError:
        return None
    if st.st_uid != os.getuid() or st.st_mode & 0o077 or not folder.is_dir() \
            or folder.is_symlink():
        return None
    return folder


def _default_dir(home: Path, name: str) -> Path:
    """An institution's own copy in its home folder wins over the shipped defaults."""
    own = home / name
    if own.is_dir() and any(own.iterdir()):
        return own
    return PROJECT_ROOT / name


#: The dates the engine takes from a person: its calendars reckon years ahead and back,
#: which runs off Python's dates near year 1 or 9999.
EARLIEST_DATE, LATEST_DATE = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def parse_iso_date(text: str, what: str) -> dt.date:
    """Parse YYYY-MM-DD or raise a ValueError that names the setting."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{what} must be a date written YYYY-MM-DD, not {text!r}.") from None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(f"{what} must be a date from {EARLIEST_DATE} to {LATEST_DATE}, "
                         f"not {text!r}.")
    return day
