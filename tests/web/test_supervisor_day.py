"""Issue 17, the supervisor's day: approving without the rows with errors, what was posted
per client and account, a submission's history, who may approve (maker-checker across
offices), and the client list and page."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.web.support import add_approvable_submission, add_submission, csrf_of, \
    give_passwords
from workbook_engine.domain import Client, GeneratedWorkbook, Loan, LoanTransaction, Submission
from workbook_engine.domain.enums import SubmissionStatus


def _client_id(ctx, name: str) -> int:
    first, last = name.split()
    with ctx.session_factory() as s:
        return s.scalar(select(Client.id).where(Client.first_name == first,
                                                Client.last_name == last))


def _loan_transactions(ctx, client_id: int, sid: int) -> int:
    with ctx.session_factory() as s:
        return s.scalar(select(func.count(LoanTransaction.id))
                        .join(Loan, Loan.id == LoanTransaction.loan_id)
                        .where(Loan.client_id == client_id,
                               LoanTransaction.submission_id == sid)) or 0


def test_approve_valid_rows_lists_the_excluded_rows_and_posts_the_rest(web, client_for):
    ctx = web.world.ctx
    sid = add_approvable_submission(web.world, submitted_by_id=web.faith,
                                    errors_on=("Amina Wanjiku",))
    grace = client_for(web.grace)
    page = grace.get(f"/submissions/{sid}")
    assert page.status_code == 200
    listed = page.text.split('id="rows-with-errors"')[1].split("</section>")[0]
    assert "Amina Wanjiku" in listed and "is not what is due" in listed
    assert f'href="/submissions/{sid}/approve-valid-rows"' in listed
    # The confirmation page lists the rows left out before anything is posted.
    confirm = grace.get(f"/submissions/{sid}/approve-valid-rows")
    assert confirm.status_code == 200
    assert "Amina Wanjiku" in confirm.text and 'id="confirm-valid-rows"' in confirm.text
    assert _loan_transactions(ctx, _client_id(ctx, "Baraka Mutua"), sid) == 0
    done = grace.post(f"/submissions/{sid}/approve-valid-rows",
                      data={"csrf_token": csrf_of(confirm.text)}, follow_redirects=True)
    assert done.status_code == 200, done.text
    assert "valid rows were approved and posted" in done.text
    assert '<span class="badge posted" id="status">' in done.text
    excluded = done.text.split('id="rows-with-errors"')[1].split("</section>")[0]
    assert "Rows excluded from the posting (1)" in excluded and "Amina Wanjiku" in excluded
    assert "-excluded-rows-" in excluded  # the new sheet of the rows left out is named
    # The same service as `approve --exclude-invalid`: Baraka's repayment is posted,
    # Amina's is not, and her row went to a new sheet.
    assert _loan_transactions(ctx, _client_id(ctx, "Baraka Mutua"), sid) > 0
    assert _loan_transactions(ctx, _client_id(ctx, "Amina Wanjiku"), sid) == 0
    with ctx.session_factory() as s:
        sub = s.get(Submission, sid)
        assert s.scalar(select(func.count(GeneratedWorkbook.id)).where(
            GeneratedWorkbook.parent_workbook_id == sub.workbook_id)) == 1
    posted = done.text.split('id="posted-accounts"')[1].split("</table>")[0]
    assert "Baraka Mutua" in posted and "Amina Wanjiku" not in posted


def test_approving_valid_rows_is_refused_to_who_may_not(web, client_for):
    sid = add_approvable_submission(web.world, errors_on=("Amina Wanjiku",))
    # Wanjiru handed it in (and is its loan officer); Peter supervises another branch.
    for staff_id in (web.wanjiru, web.peter):
        other = client_for(staff_id)
        assert other.get(f"/submissions/{sid}/approve-valid-rows").status_code in (403, 404)
        token = csrf_of(other.get("/queue").text)
        refused = other.post(f"/submissions/{sid}/approve-valid-rows",
                             data={"csrf_token": token})
        assert refused.status_code in (403, 404)
    with web.world.ctx.session_factory() as s:
        assert s.get(Submission, sid).status == SubmissionStatus.INVALID
    # A sheet without row errors offers no such approval.
    clean = add_approvable_submission(web.world, submitted_by_id=web.faith)
    grace = client_for(web.grace)
    assert 'approve-valid-rows' not in grace.get(f"/submissions/{clean}").text
    assert grace.get(f"/submissions/{clean}/approve-valid-rows").status_code == 403


def test_after_posting_the_page_shows_what_was_posted_per_client_and_account(web, client_for):
    ctx = web.world.ctx
    sid = add_approvable_submission(web.world, submitted_by_id=web.faith)
    grace = client_for(web.grace)
    page = grace.get(f"/submissions/{sid}")
    done = grace.post(f"/submissions/{sid}/approve", data={"csrf_token": csrf_of(page.text),
                                                         "confirmed": "yes"},
                      follow_redirects=True)
    assert done.status_code == 200
    section = done.text.split('id="posted-by-client"')[1].split("</section>")[0]
    assert '<dd id="posted-collected">3,769.74</dd>' in section
    assert '<dd id="posted-paid-out">8,000.00</dd>' in section
    amina = _client_id(ctx, "Amina Wanjiku")
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", section.split('id="posted-accounts"')[1], re.S)
    amina_rows = [r for r in rows if f'href="/clients/{amina}"' in r]
    assert amina_rows and "Amina Wanjiku" in amina_rows[0]
    assert "repayment 1,851.28" in section
    # Each client is one line, linked, whether the account is theirs or a share of the
    # group's (Chiku's own loan, and her share of the Group Fund).
    chiku = _client_id(ctx, "Chiku Akinyi")
    assert section.count(f'<a href="/clients/{chiku}">Chiku Akinyi</a>') == 1
    assert ">Chiku Akinyi<" in section and section.count("Chiku Akinyi") == 1
    assert "disbursal 8,000.00" in section  # Chiku's loan paid out, formatted as money
    assert re.search(r'href="/loans/\d+"', section) and re.search(r'href="/savings/\d+"',
                                                                   section)
    # The group's own deposit is the group's line, without a client link.
    assert "Kilimani" in section
    # And the client's page shows the transaction among the recent ones, with its sheet.
    client_page = grace.get(f"/clients/{amina}")
    recent = client_page.text.split('id="recent-transactions"')[1].split("</table>")[0]
    assert "1,851.28" in recent and f'href="/submissions/{sid}"' in recent


def test_history_shows_received_versions_reports_and_who_decided(web, client_for):
    ctx = web.world.ctx
    first = add_approvable_submission(web.world, submitted_by_id=web.faith)
    with ctx.session_factory() as s:
        workbook_id = s.get(Submission, first).workbook_id
    grace = client_for(web.grace)
    page = grace.get(f"/submissions/{first}")
    grace.post(f"/submissions/{first}/reject", data={"csrf_token": csrf_of(page.text),
                                                      "reason": "Receipt missing"})
    second = add_submission(ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi,
                            submitted_by_id=web.faith, workbook_id=workbook_id, version=2,
                            name="kilimani-2026-03-03-v2.xlsx", kind="collection_sheet",
                            content={"entries": {}, "errors": []})
    view = grace.get(f"/submissions/{second}")
    history = view.text.split('id="history"')[1].split("</section>")[0]
    assert "from Faith Chebet" in history and "version 2 of the sheet" in history
    versions = history.split('id="versions"')[1].split("</table>")[0]
    assert f'<a href="/submissions/{first}">{first}</a>' in versions
    assert f"{second} (this one)" in versions and "rejected" in versions
    old = grace.get(f"/submissions/{first}").text.split('id="history"')[1]
    changes = old.split('id="status-changes"')[1].split("</table>")[0]
    assert "rejected" in changes and "Grace Wambui" in changes
    assert "Receipt missing" in changes and "UTC" in changes


def _jane(web) -> int:
    from workbook_engine.services.setup.institution import create_staff

    jane = create_staff(web.world.ctx, actor_id=None, office_id=web.world.ref.head_office,
                        first_name="Jane", last_name="Mutiso", is_supervisor=True)
    jane_id = jane if isinstance(jane, int) else jane["id"]
    give_passwords(web.world.ctx, [jane_id])
    return jane_id


def test_sheet_of_the_only_supervisor_is_approved_by_a_parent_office(web, client_for):
    # Grace, Nairobi East's only supervisor, handed the sheet in herself.
    sid = add_approvable_submission(web.world, submitted_by_id=web.grace)
    grace = client_for(web.grace)
    own = grace.get(f"/submissions/{sid}").text
    assert 'id="approve"' not in own
    assert 'id="no-approver"' in own  # nobody above Nairobi East supervises yet
    jane = _jane(web)
    own = grace.get(f"/submissions/{sid}").text
    who = own.split('id="who-approves"')[1].split("</section>")[0]
    assert re.findall(r'<strong class="approver">([^<]+)</strong>', who) == ["Jane Mutiso"]
    assert "Grace Wambui" not in who and "Peter" not in who  # Kisumu is not above it
    head = client_for(jane)
    page = head.get(f"/submissions/{sid}")
    assert 'id="approve"' in page.text
    done = head.post(f"/submissions/{sid}/approve", data={"csrf_token": csrf_of(page.text),
                                                         "confirmed": "yes"},
                     follow_redirects=True)
    assert done.status_code == 200 and '<span class="badge posted" id="status">' in done.text
    assert "Jane Mutiso" in done.text.split('id="status-changes"')[1]


def test_client_list_searches_and_pages_within_the_viewers_offices(web, client_for):
    grace = client_for(web.grace)
    every = grace.get("/clients")
    assert every.status_code == 200
    total = int(re.search(r"of (\d+)</span>", every.text).group(1))
    assert total >= 4
    found = grace.get("/clients?q=amina")
    names = re.findall(r'<a href="/clients/\d+">([^<]+)</a>', found.text)
    assert names == ["Amina Wanjiku"]
    assert "1–1 of 1" in found.text
    # The client's page: accounts with balances, and a link back from the list.
    amina = _client_id(web.world.ctx, "Amina Wanjiku")
    client_page = grace.get(f"/clients/{amina}")
    assert 'id="loans"' in client_page.text and 'id="savings"' in client_page.text
    # Another branch's supervisor does not see Kilimani's clients, nor finds them.
    peter = client_for(web.peter)
    assert "Amina Wanjiku" not in peter.get("/clients?q=amina").text
    assert 'id="no-clients"' in peter.get("/clients?q=amina").text
    # A loan officer sees their own portfolio only.
    otieno = client_for(web.otieno)
    assert "Amina Wanjiku" not in otieno.get("/clients").text
    wanjiru = client_for(web.wanjiru)
    assert "Amina Wanjiku" in wanjiru.get("/clients?q=wanjiku").text
    # Paging: 2 per page is not offered, 20 is; a page past the end shows the last one.
    paged = grace.get("/clients?page=999")
    assert paged.status_code == 200 and f"of {total}</span>" in paged.text


def test_approvers_nearest_office_first_never_the_maker(web):
    """The service behind "Who can approve": the branch's supervisors, then the head
    office's; never who submitted the sheet nor its loan officer, nor an inactive one."""
    from workbook_engine.services.pipeline.approval_queue import approvers
    from workbook_engine.services.setup.institution import create_staff

    ctx = web.world.ctx
    _jane(web)
    create_staff(ctx, actor_id=None, office_id=web.world.ref.head_office, first_name="Ida",
                 last_name="Gone", is_supervisor=True, active=False)
    create_staff(ctx, actor_id=None, office_id=web.nairobi, first_name="Zawadi",
                 last_name="Otieno", is_supervisor=True)
    by_faith = add_submission(ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi,
                              submitted_by_id=web.faith)
    by_grace = add_submission(ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi,
                              submitted_by_id=web.grace, name="by-grace.xlsx")
    with ctx.session_factory() as s:
        names = [a["name"] for a in approvers(s, s.get(Submission, by_faith))]
        assert names == ["Grace Wambui", "Zawadi Otieno", "Jane Mutiso"]
        names = [a["name"] for a in approvers(s, s.get(Submission, by_grace))]
        assert names == ["Zawadi Otieno", "Jane Mutiso"]
