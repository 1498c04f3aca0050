"""The same ownership rule for every sheet, centers and groups alike, whatever the path it
comes in by: `process --as` a loan officer, a file a known login drops in the inbox (and
e-mail, tests/intake/test_mail_groups.py). A loan officer hands in only their own sheets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.foundation.test_cli import cli
from workbook_engine.cli.common import current_login

ROOT = Path(__file__).resolve().parents[2]
OTIENO = "otieno.odhiambo@demo-mfi.example"  # a Nairobi East loan officer
MWANGI = "mwangi.njoroge@demo-mfi.example"   # runs the Kisumu groups that meet alone


def _sheet(home: Path, out: Path, *, group: bool) -> Path:
    """A fresh sheet of a Kisumu group meeting alone, or of a Nairobi center not Otieno's."""
    supervisor = "Peter Ochieng" if group else "Grace Wambui"  # who lists and writes it
    if group:
        rows = json.loads(cli(home, "--as", supervisor, "groups", "list", "--json").stdout)
        [pick, *_] = [g for g in rows if g["office"] == "Kisumu" and not g["center"]]
        which = ["--group", str(pick["id"])]
    else:
        rows = json.loads(cli(home, "--as", supervisor, "centers", "list", "--json").stdout)
        [pick, *_] = [c for c in rows if c["office"] == "Nairobi East"
                      and c["staff"] != "Otieno Odhiambo"]
        which = ["--center", str(pick["id"])]
    made = cli(home, "--as", supervisor, "sheets", "collection", *which, "--out", str(out),
               "--json")
    assert made.returncode == 0, made.stderr
    return Path(json.loads(made.stdout)[0]["path"])


def _processed(home: Path, actor: str, sheet: Path) -> tuple[int, dict]:
    done = cli(home, "--as", actor, "process", str(sheet), "--json")
    return done.returncode, json.loads(done.stdout)


def test_process_as_an_officer_of_anothers_group_or_center_is_refused(
        home: Path, tmp_path: Path) -> None:
    for group, code in ((True, "intake-group-not-assigned"),
                        (False, "intake-center-not-assigned")):
        sheet = _sheet(home, tmp_path / code, group=group)
        exit_code, result = _processed(home, OTIENO, sheet)
        assert exit_code == 1
        assert result["status"] == "invalid"
        [error] = result["errors"]
        assert error["code"] == code
        assert "not assigned to Otieno Odhiambo" in error["message"]
    own = _sheet(home, tmp_path / "own", group=True)
    _, result = _processed(home, MWANGI, own)  # an empty sheet: its own errors, not this
    assert result["errors"] and not [e for e in result["errors"]
                                     if e["code"].endswith("-not-assigned")], result


def test_an_inbox_drop_by_a_mapped_login_follows_the_same_rule(home: Path,
                                                                tmp_path: Path) -> None:
    own = tmp_path / "home"
    shutil.copytree(home, own)
    shutil.copytree(ROOT / "rules", own / "rules")
    (own / "rules" / "cli.yaml").write_text(f"logins:\n  {current_login()}: {OTIENO}\n",
                                            encoding="utf-8")
    sheet = _sheet(own, tmp_path / "field", group=True)
    shutil.copy(sheet, own / "inbox" / sheet.name)
    run = cli(own, "watch", "--once", "--json")
    assert run.returncode in (0, 1), run.stderr
    # listed as who dropped it: a file refused for a group not his is his office's, and
    # the Kisumu supervisor does not see it (nor does the web's queue show it to him)
    listed = json.loads(cli(own, "--as", OTIENO, "submissions", "list", "--json").stdout)
    dropped = max((s for s in listed if s["original_name"] == sheet.name),
                  key=lambda s: s["id"])
    assert (dropped["status"], dropped["submitted_by"]) == ("invalid", "Otieno Odhiambo")
    shown = json.loads(cli(own, "submissions", "show", str(dropped["id"]), "--json").stdout)
    assert [e["code"] for e in shown["errors"]] == ["intake-group-not-assigned"]
