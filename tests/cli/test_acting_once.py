"""`--as` is resolved once per command: a read named `--as` looked the member of staff up
twice (once to refuse a name that is nobody's, once to apply their scope)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.conftest import KilimaniWorld
from workbook_engine.services.setup import lookup


@pytest.mark.parametrize("command", [("clients", "list"), ("clients", "show", "1"),
                                     ("centers", "list"), ("submissions", "list")])
def test_who_acts_is_looked_up_once(kilimani: KilimaniWorld,
                                    monkeypatch: pytest.MonkeyPatch,
                                    command: tuple[str, ...]) -> None:
    from workbook_engine.cli.main import app

    looked_up: list[str] = []
    resolve = lookup.resolve_staff

    def counting(session, reference):  # noqa: ANN001, ANN202 - the service's own signature
        looked_up.append(reference)
        return resolve(session, reference)

    monkeypatch.setattr(lookup, "resolve_staff", counting)
    result = CliRunner().invoke(app, [
        "--home", str(kilimani.ctx.home), "--db", kilimani.ctx.settings.database_url,
        "--today", "2026-03-03", "--as", "Grace Wambui", *command, "--json"],
        env={"WORKBOOK_ENGINE_SECRET_FILE": str(kilimani.ctx.settings.secret_file),
             "WORKBOOK_ENGINE_SERVER": "off"})
    assert result.exit_code == 0, result.output
    assert looked_up == ["Grace Wambui"]
