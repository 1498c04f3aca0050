"""The same ownership rule for a group's sheet as for a center's: a loan officer cannot
e-mail another officer's group sheet (even from another branch); the reply says one thing."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.foundation.test_cli import cli

OTIENO = "otieno.odhiambo@demo-mfi.example"  # a Nairobi East loan officer
MWANGI = "mwangi.njoroge@demo-mfi.example"   # runs the Kisumu groups that meet alone


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mail-groups")
    assert cli(folder, "init", "--demo").returncode == 0
    return folder


def _group_sheet(home: Path, out: Path) -> Path:
    groups = json.loads(cli(home, "groups", "list", "--json").stdout)
    [group, *_] = [g for g in groups if g["office"] == "Kisumu" and not g["center"]]
    made = cli(home, "--as", "Peter Ochieng", "sheets", "collection", "--group",
               str(group["id"]), "--out", str(out), "--json")
    assert made.returncode == 0, made.stderr
    return Path(json.loads(made.stdout)[0]["path"])


def _send(maildir: Path, sender: str, sheet: Path) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "sheets@mfi.example", "group sheet"
    msg["Message-ID"] = f"<{sender}-{sheet.stat().st_mtime_ns}@field>"
    msg.set_content("Attached.")
    msg.add_attachment(sheet.read_bytes(), maintype="application",
                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       filename=sheet.name)
    mailbox.Maildir(maildir, create=True).add(msg)


def _replies(home: Path) -> list[str]:
    box = mailbox.Maildir(home / "outgoing-mail", create=True)
    return [email.message_from_bytes(box.get_bytes(k), policy=email.policy.default)
            .get_body().get_content() for k in sorted(box.keys())]


def test_an_officer_cannot_email_another_officers_group_sheet(home: Path,
                                                               tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    sheet = _group_sheet(home, tmp_path / "field")
    _send(maildir, OTIENO, sheet)
    run = cli(home, "watch", "--maildir", str(maildir), "--once", "--json")
    assert run.returncode == 0, run.stderr
    [message] = json.loads(run.stdout)
    [result] = message["sheets"]
    assert result["refusal"].startswith("intake-group-not-assigned: the sheet is for group")
    submission = result["submission_id"] or result["duplicate_of"]
    shown = json.loads(cli(home, "submissions", "show", str(submission), "--json").stdout)
    assert shown["status"] == "rejected"
    assert "intake-group-not-assigned" in shown["decision_reason"]
    [reply] = _replies(home)
    assert "refused: intake-group-not-assigned" in reply and OTIENO in reply
    assert "awaiting" not in reply and "received as submission" not in reply

    own = _group_sheet(home, tmp_path / "field-2")  # a fresh sheet of the same group
    _send(maildir, MWANGI, own)
    run = cli(home, "watch", "--maildir", str(maildir), "--once", "--json")
    [message] = json.loads(run.stdout)
    assert message["sheets"][0]["refusal"] is None
    assert "refused" not in _replies(home)[-1]
