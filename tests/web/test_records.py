"""Client, group, loan and savings pages: who may see them, and the links from the reports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.returned.sheets import FILLED_HEADER, edit, generate
from workbook_engine.domain import Client, Group, Loan, SavingsAccount
from workbook_engine.reports.links import link_records
from workbook_engine.services.pipeline.processing import process_file


def _ids(web) -> dict[str, int]:
    with web.world.ctx.session_factory() as s:
        amina = s.scalar(select(Client).where(Client.first_name == "Amina"))
        umoja = s.scalar(select(Group).where(Group.name == "Umoja"))
        loan = s.scalar(select(Loan).where(Loan.client_id == amina.id))
        savings = s.scalar(select(SavingsAccount).where(SavingsAccount.client_id == amina.id))
        return {"client": amina.id, "group": umoja.id, "loan": loan.id, "savings": savings.id}


def _paths(ids: dict[str, int]) -> list[str]:
    return [f"/clients/{ids['client']}", f"/groups/{ids['group']}", f"/loans/{ids['loan']}",
            f"/savings/{ids['savings']}"]


def test_client_page_shows_portfolio_with_links(web, client_for) -> None:
    ids = _ids(web)
    grace = client_for(web.grace)
    page = grace.get(f"/clients/{ids['client']}")
    assert page.status_code == 200
    text = page.text
    assert "Amina Wanjiku" in text and "Wanjiru Kamau" in text and "Nairobi East" in text
    # The portfolio of the domain notes: Biashara 10,000 with 9,256.41 outstanding, 925.64
    # overdue (14 days); Lazima savings 150.
    assert f'<a href="/loans/{ids["loan"]}">L000000001</a>' in text
    assert "9,256.41" in text and "925.64" in text and "Biashara" in text
    assert f'<a href="/savings/{ids["savings"]}">S000000001</a>' in text and "150.00" in text
    assert f'<a href="/groups/{ids["group"]}">Umoja</a>' in text
    loan = grace.get(f"/loans/{ids['loan']}")
    assert loan.status_code == 200 and 'id="schedule"' in loan.text
    assert "2026-06-23" in loan.text and "925.65" in loan.text  # the last installment
    assert f'href="/clients/{ids["client"]}" id="owner">Amina Wanjiku' in loan.text
    savings = grace.get(f"/savings/{ids['savings']}")
    assert savings.status_code == 200 and "Lazima" in savings.text and "150.00" in savings.text
    group = grace.get(f"/groups/{ids['group']}")
    members = re.findall(r'<a href="/clients/(\d+)">([^<]+)</a>', group.text)
    assert [name for _, name in members] == ["Amina Wanjiku", "Baraka Mutua", "Chiku Akinyi",
                                             "Dalia Njeri"]
    assert "Group Fund" in group.text and "80.00" in group.text


@pytest.mark.parametrize("who, sees", [
    ("grace", True),     # supervisor of Nairobi East
    ("faith", True),     # data-entry clerk of Nairobi East
    ("wanjiru", True),   # runs Kilimani and Umoja
    ("otieno", False),   # another loan officer of the same branch
    ("peter", False),    # supervisor of Kisumu
])
def test_record_pages_follow_the_queue_rule(web, client_for, who: str, sees: bool) -> None:
    client = client_for(getattr(web, who))
    for path in _paths(_ids(web)):
        response = client.get(path)
        if sees:
            assert response.status_code == 200, (who, path)
        else:
            assert response.status_code == 404, (who, path)
            assert "that you may see" in response.text and "Amina" not in response.text


def test_loan_officer_sees_a_client_assigned_to_them(web, client_for) -> None:
    ids = _ids(web)
    otieno = client_for(web.otieno)
    assert otieno.get(f"/clients/{ids['client']}").status_code == 404
    with web.world.ctx.session_factory() as s:
        s.get(Client, ids["client"]).staff_id = web.otieno
        s.commit()
    assert otieno.get(f"/clients/{ids['client']}").status_code == 200
    assert otieno.get(f"/loans/{ids['loan']}").status_code == 200  # the client's loan
    assert otieno.get(f"/groups/{ids['group']}").status_code == 404  # not his group


def _returned_with_errors(web, tmp_path: Path):
    path, expected = generate(web.world, tmp_path / "generated")
    returned = edit(path, tmp_path / "kilimani-returned.xlsx", {}, header=FILLED_HEADER,
                    expected=expected, by_name={("Amina Wanjiku", "repayment"): "-5",
                                                ("Umoja", "withdrawal"): "lots"})
    return process_file(web.world.ctx, returned, actor_id=web.faith,
                        loan_officer_id=web.wanjiru)


def test_report_rows_and_errors_link_to_client_and_group_pages(web, client_for,
                                                               tmp_path: Path) -> None:
    ids = _ids(web)
    result = _returned_with_errors(web, tmp_path)
    assert result.error_count == 2
    served = client_for(web.grace).get(f"/submissions/{result.submission_id}/report.html")
    assert served.status_code == 200
    assert "sandbox allow-top-navigation-by-user-activation" in served.headers[
        "content-security-policy"]
    client_link = (f'<a class="record" href="/clients/{ids["client"]}" target="_top" '
                   'title="Open the client page">Amina Wanjiku</a>')
    group_link = (f'<a class="record" href="/groups/{ids["group"]}" target="_top" '
                  'title="Open the group page">Umoja</a>')
    # Amina: her row of the sheet and her error; Umoja: its row and its error.
    assert served.text.count(client_link) == 2 and served.text.count(group_link) == 2
    linked = set(re.findall(r'href="/clients/(\d+)"', served.text))
    with web.world.ctx.session_factory() as s:
        on_sheet = set(s.scalars(select(Client.id).where(Client.first_name.in_(
            ["Amina", "Baraka", "Chiku", "Dalia"]))))
    assert {int(i) for i in linked} == on_sheet
    # The file in outbox/ links nothing (it is opened from disk or an e-mail), but says
    # which client each name is.
    standalone = result.report_html.read_text(encoding="utf-8")
    assert "<a " not in standalone and "/clients/" not in standalone
    assert f'title="client {ids["client"]}">Amina Wanjiku</span>' in standalone
    assert f'title="group {ids["group"]}">Umoja</span>' in standalone


def test_a_linked_client_is_still_checked_by_role(web, client_for, tmp_path: Path) -> None:
    """The link is only a convenience: Wanjiru's report shown to her links her client, and a
    guessed link to it is still refused to another loan officer."""
    ids = _ids(web)
    result = _returned_with_errors(web, tmp_path)
    wanjiru = client_for(web.wanjiru)
    report = wanjiru.get(f"/submissions/{result.submission_id}/report.html")
    assert f'href="/clients/{ids["client"]}"' in report.text
    assert wanjiru.get(f"/clients/{ids['client']}").status_code == 200
    assert client_for(web.otieno).get(f"/clients/{ids['client']}").status_code == 404


def test_user_text_never_becomes_a_link() -> None:
    typed = ('&lt;span class="record" data-kind="client" data-id="1" title="x"&gt;'
             'Eve&lt;/span&gt;')
    ours = ('<span class="record" data-kind="client" data-id="7" title="client 7">'
            'O&#39;Brien &amp; Co</span>')
    html = link_records(typed + ours, lambda kind, rid: f"/{kind}s/{rid}")
    assert html.startswith(typed)
    assert html.endswith('<a class="record" href="/clients/7" target="_top" title="Open the '
                         'client page">O&#39;Brien &amp; Co</a>')
