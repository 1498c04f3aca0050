"""Client services on the Kilimani world: create, edit, staff, lifecycle, transfers.

A representative subset runs on every database (`any_kilimani`), the rest on SQLite.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from workbook_engine.domain import AuditRecord, Client, Group, GroupMembership
from workbook_engine.errors import EngineError
from workbook_engine.services.clients import lifecycle as svc
from workbook_engine.services.clients.fields import define_client_field
from workbook_engine.services.ledger.loans import submit_loan
from workbook_engine.services.ledger.savings import open_savings_account
from workbook_engine.services.setup.institution import create_group, create_staff

TODAY = dt.date(2026, 3, 3)
AMINA, BARAKA, CHIKU, DALIA = 1, 2, 3, 4
UMOJA = 1


def office(world, name="Nairobi East"):
    return world.ref.branches[name]


def new_person(world, **values):
    base = {"first_name": "Zawadi", "last_name": "Achieng", "submitted_on": dt.date(2026, 2, 1)}
    base.update(values)
    return svc.create_client(world.ctx, actor_id=world.ref.clerk,
                             office_id=values.pop("office_id", office(world)),
                             **{k: v for k, v in base.items() if k != "office_id"})


def client(world, client_id):
    with world.ctx.session_factory() as s:
        return s.get(Client, client_id)


def refused(code, words, fn, *args, **kwargs):
    with pytest.raises(EngineError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value.message
    assert words in info.value.message, info.value.message
    return info.value


def audits(world, action):
    with world.ctx.session_factory() as s:
        return s.scalars(select(AuditRecord).where(AuditRecord.action == action)).all()


def test_create_a_person_with_every_detail_and_join_a_group(any_kilimani):
    w = any_kilimani
    define_client_field(w.ctx, actor_id=None, name="national_id", data_type="text",
                        mandatory=True)
    cid = new_person(w, middle_name=" Wairimu ", mobile_no="0722 111-222", gender="Female",
                     date_of_birth=dt.date(1990, 5, 1), client_type="Individual",
                     client_classification="Trader", external_id="APP-77",
                     email="zawadi@example.org", staff_id=w.ref.loan_officers["Wanjiru"],
                     group_id=UMOJA, active=True, activation_date=dt.date(2026, 2, 2),
                     additional={"national_id": "12345678"})
    c = client(w, cid)
    assert (c.display_name, c.status.value, c.mobile_no) == (
        "Zawadi Wairimu Achieng", "active", "0722111222")
    assert c.activation_date == dt.date(2026, 2, 2)
    with w.ctx.session_factory() as s:
        assert s.scalar(select(GroupMembership.group_id)
                        .where(GroupMembership.client_id == cid)) == UMOJA
    record = audits(w, "client.create")[-1]
    assert record.actor_id == w.ref.clerk and record.after["additional"] == {
        "national_id": "12345678"}
    refused("client-duplicate", "0722111222 already belongs", new_person, w,
            mobile_no="0722111222", additional={"national_id": "1"})
    refused("client-field-missing", "national id (an additional detail) is mandatory",
            new_person, w)


def test_create_an_entity(kilimani):
    w = kilimani
    cid = svc.create_client(w.ctx, actor_id=None, office_id=office(w), legal_form="entity",
                            full_name="Umoja Traders", incorporation_date="2020-05-01",
                            incorporation_valid_till="2030-05-01", incorporation_number="CPR/1",
                            constitution="Cooperative", main_business_line="Retail",
                            remarks="Village shop")
    c = client(w, cid)
    assert (c.display_name, c.legal_form.value, c.first_name) == ("Umoja Traders", "entity",
                                                                   None)
    assert c.constitution_id is not None and c.status.value == "pending"
    refused("client-field-invalid", "The first name is a detail of a person, and this client "
            "is an entity", svc.create_client, w.ctx, actor_id=None, office_id=office(w),
            legal_form="entity", full_name="Umoja Two", first_name="given")
    refused("client-field-missing", "The name of an entity is mandatory", svc.create_client,
            w.ctx, actor_id=None, office_id=office(w), legal_form="entity")
    refused("client-field-invalid", "The legal form 'company' is not known",
            svc.create_client, w.ctx, actor_id=None, office_id=office(w),
            legal_form="company")


def test_create_refusals(kilimani):
    w = kilimani
    kisumu_group = create_group(w.ctx, actor_id=None, office_id=office(w, "Kisumu"),
                                name="Kisumu A", staff_id=None, meeting_start=TODAY)
    refused("client-field-invalid", "belongs to office Kisumu, not to Nairobi East",
            new_person, w, group_id=kisumu_group)
    refused("client-staff-not-assignable", "works in Kisumu, not in the client's office",
            new_person, w, staff_id=w.ref.loan_officers["Mwangi"])
    refused("client-date-not-allowed", "The submission date 2026-03-04 is in the future",
            new_person, w, submitted_on=dt.date(2026, 3, 4))
    refused("client-date-not-allowed", "before office Nairobi East opened (2020-01-01)",
            new_person, w, submitted_on=dt.date(2019, 12, 31))
    refused("client-duplicate", "'EXT' is already used", lambda: (
        new_person(w, external_id="EXT"), new_person(w, external_id="EXT")))
    refused("client-field-invalid", "The client type 'VIP' is not one of its values",
            new_person, w, client_type="VIP")


def test_activate_dates(kilimani):
    w = kilimani
    cid = new_person(w)
    refused("client-date-not-allowed", "The activation date 2026-01-31 is before the "
            "submission date (2026-02-01)", svc.activate_client, w.ctx, actor_id=None,
            client_id=cid, activation_date=dt.date(2026, 1, 31))
    refused("client-date-not-allowed", "is in the future", svc.activate_client, w.ctx,
            actor_id=None, client_id=cid, activation_date=dt.date(2026, 3, 4))
    svc.activate_client(w.ctx, actor_id=None, client_id=cid, activation_date=TODAY)
    assert client(w, cid).status.value == "active"
    refused("client-wrong-status", "is active; only a pending client can be activated",
            svc.activate_client, w.ctx, actor_id=None, client_id=cid)
    assert audits(w, "client.activate")[-1].before["status"] == "pending"


def test_activation_not_before_the_office_opened(kilimani):
    w = kilimani
    from workbook_engine.services.setup.institution import create_office

    late = create_office(w.ctx, actor_id=None, name="Late", parent_id=w.ref.head_office,
                         opening_date=dt.date(2026, 2, 15))
    cid = svc.create_client(w.ctx, actor_id=None, office_id=late, first_name="A",
                            last_name="B", submitted_on=dt.date(2026, 2, 20))
    with w.ctx.unit_of_work(None) as uow:  # an office whose opening date was corrected later
        from workbook_engine.domain import Office

        uow.session.get(Office, late).opening_date = dt.date(2026, 2, 25)
        uow.commit()
    refused("client-date-not-allowed", "before office Late opened (2026-02-25)",
            svc.activate_client, w.ctx, actor_id=None, client_id=cid,
            activation_date=dt.date(2026, 2, 21))


def test_edit_validates_like_create_and_audits_before_after(kilimani):
    w = kilimani
    svc.edit_client(w.ctx, actor_id=None, client_id=AMINA,
                    changes={"middle_name": " Nduta ", "mobile_no": "0712-000 001",
                             "gender": "Female", "date_of_birth": "1985-07-07"})
    c = client(w, AMINA)
    assert (c.middle_name, c.mobile_no, c.date_of_birth) == ("Nduta", "0712000001",
                                                              dt.date(1985, 7, 7))
    record = audits(w, "client.edit")[-1]
    assert record.before["middle_name"] is None and record.after["middle_name"] == "Nduta"
    refused("client-duplicate", "0712000002 already belongs", svc.edit_client, w.ctx,
            actor_id=None, client_id=AMINA, changes={"mobile_no": "0712000002"})
    refused("client-field-missing", "The last name of a person is mandatory", svc.edit_client,
            w.ctx, actor_id=None, client_id=AMINA, changes={"last_name": "  "})
    refused("client-field-invalid", "'shoe_size' is not a client detail", svc.edit_client,
            w.ctx, actor_id=None, client_id=AMINA, changes={"shoe_size": 4})


def test_assign_and_unassign_staff(kilimani):
    w = kilimani
    otieno = w.ref.loan_officers["Otieno"]
    svc.assign_staff(w.ctx, actor_id=None, client_id=DALIA, staff_id=otieno)
    assert client(w, DALIA).staff_id == otieno
    gone = create_staff(w.ctx, actor_id=None, office_id=office(w), first_name="Old",
                        last_name="Timer", active=False)
    refused("client-staff-not-assignable", "Staff Old Timer", svc.assign_staff, w.ctx,
            actor_id=None, client_id=DALIA, staff_id=gone)
    refused("client-staff-not-assignable", "works in Kisumu", svc.assign_staff, w.ctx,
            actor_id=None, client_id=DALIA, staff_id=w.ref.loan_officers["Mwangi"])
    svc.unassign_staff(w.ctx, actor_id=None, client_id=DALIA)
    assert client(w, DALIA).staff_id is None
    refused("client-field-invalid", "has no staff assigned", svc.unassign_staff, w.ctx,
            actor_id=None, client_id=DALIA)


def test_transfer_accept_moves_the_client(any_kilimani):
    w = any_kilimani
    kisumu = office(w, "Kisumu")
    group = create_group(w.ctx, actor_id=None, office_id=kisumu, name="Kisumu A",
                         staff_id=None, meeting_start=TODAY)
    svc.propose_transfer(w.ctx, actor_id=None, client_id=DALIA, to_office_id=kisumu,
                         on_date=dt.date(2026, 3, 1))
    assert client(w, DALIA).status.value == "transfer_in_progress"
    # no new accounts while in progress
    refused("wrong-state", "transfer in progress: only an active client", submit_loan, w.ctx,
            actor_id=None, product_id=w.ref.loan_products["Biashara"],
            principal=Decimal(1000), submitted_on=TODAY, expected_disbursement_date=TODAY,
            client_id=DALIA)
    refused("wrong-state", "transfer in progress", open_savings_account, w.ctx, actor_id=None,
            product_id=w.ref.savings_products["Hiari"], opened_on=TODAY, client_id=DALIA)
    svc.accept_transfer(w.ctx, actor_id=None, client_id=DALIA, group_id=group,
                        staff_id=w.ref.loan_officers["Mwangi"])
    c = client(w, DALIA)
    assert (c.office_id, c.status.value, c.staff_id) == (kisumu, "active",
                                                          w.ref.loan_officers["Mwangi"])
    with w.ctx.session_factory() as s:
        assert [m.group_id for m in s.get(Client, DALIA).memberships] == [group]
        # The group left keeps the membership's history (what it paid in as a member).
        assert s.execute(select(GroupMembership.group_id, GroupMembership.left_on)
                         .where(GroupMembership.client_id == DALIA)
                         .order_by(GroupMembership.id)).all() == [
            (s.scalar(select(Group.id).where(Group.name == "Umoja")), TODAY), (group, None)]
    assert audits(w, "client.accept_transfer")[-1].note == "left groups: Umoja (Kilimani)"


def test_transfer_reject_puts_on_hold_then_withdraw(kilimani):
    w = kilimani
    kisumu = office(w, "Kisumu")
    refused("client-transfer-not-allowed", "already in office Nairobi East",
            svc.propose_transfer, w.ctx, actor_id=None, client_id=DALIA,
            to_office_id=office(w))
    svc.propose_transfer(w.ctx, actor_id=None, client_id=DALIA, to_office_id=kisumu)
    refused("client-wrong-status", "only an active or transfer on hold client",
            svc.propose_transfer, w.ctx, actor_id=None, client_id=DALIA, to_office_id=kisumu)
    svc.reject_transfer(w.ctx, actor_id=None, client_id=DALIA, note="no group nearby")
    c = client(w, DALIA)
    assert (c.status.value, c.office_id) == ("transfer_on_hold", office(w))
    refused("client-wrong-status", "only a transfer in progress client can have its "
            "transfer accepted", svc.accept_transfer, w.ctx, actor_id=None, client_id=DALIA)
    svc.withdraw_transfer(w.ctx, actor_id=None, client_id=DALIA)
    c = client(w, DALIA)
    assert (c.status.value, c.transfer_to_office_id) == ("active", None)
    with w.ctx.session_factory() as s:  # still in Umoja
        assert s.scalar(select(GroupMembership.group_id)
                        .where(GroupMembership.client_id == DALIA)) == UMOJA


def test_accept_into_a_group_of_another_office_is_refused(kilimani):
    w = kilimani
    svc.propose_transfer(w.ctx, actor_id=None, client_id=DALIA,
                         to_office_id=office(w, "Kisumu"))
    refused("client-transfer-not-allowed", "not to the destination office Kisumu",
            svc.accept_transfer, w.ctx, actor_id=None, client_id=DALIA, group_id=UMOJA)
    assert client(w, DALIA).status.value == "transfer_in_progress"


def test_close_refused_with_open_accounts_then_reactivate(any_kilimani):
    w = any_kilimani
    refused("client-has-open-accounts", "Client Amina Wanjiku (id 1) cannot be closed while "
            "it has loan L000000001 (active), savings account S000000001 (balance 150)",
            svc.close_client, w.ctx, actor_id=None, client_id=AMINA, closure_reason="Deceased")
    refused("client-has-open-accounts", "loan L000000004 (approved)", svc.close_client, w.ctx,
            actor_id=None, client_id=CHIKU, closure_reason="Deceased")
    refused("client-field-missing", "The closure reason is mandatory", svc.close_client,
            w.ctx, actor_id=None, client_id=DALIA)
    refused("invalid-value", "Closure reason 'Bored' is not one of the values",
            svc.close_client, w.ctx, actor_id=None, client_id=DALIA, closure_reason="Bored")
    svc.close_client(w.ctx, actor_id=None, client_id=DALIA, closure_date=dt.date(2026, 3, 1),
                     closure_reason="Moved away")
    c = client(w, DALIA)
    assert (c.status.value, c.closure_date) == ("closed", dt.date(2026, 3, 1))
    refused("client-date-not-allowed", "before the closure date (2026-03-01)",
            svc.reactivate_client, w.ctx, actor_id=None, client_id=DALIA,
            reactivation_date=dt.date(2026, 2, 28))
    svc.reactivate_client(w.ctx, actor_id=None, client_id=DALIA)
    c = client(w, DALIA)
    assert (c.status.value, c.reactivation_date, c.closure_date) == ("active", TODAY, None)


def test_closed_clients_mobile_is_free_until_reactivation(kilimani):
    w = kilimani
    svc.close_client(w.ctx, actor_id=None, client_id=DALIA, closure_reason="Moved away")
    new_person(w, mobile_no="0712000004")
    refused("client-duplicate", "0712000004 of Client Dalia Njeri (id 4) now belongs",
            svc.reactivate_client, w.ctx, actor_id=None, client_id=DALIA)
    refused("client-wrong-status", "only a closed client can be reactivated",
            svc.reactivate_client, w.ctx, actor_id=None, client_id=AMINA)


def test_reject_withdraw_and_undo(kilimani):
    w = kilimani
    first, second = new_person(w), new_person(w, first_name="Imani")
    svc.reject_client(w.ctx, actor_id=None, client_id=first, reason="Not eligible")
    svc.withdraw_client(w.ctx, actor_id=None, client_id=second,
                        withdrawal_date=dt.date(2026, 2, 10), reason="Client changed mind")
    assert [client(w, i).status.value for i in (first, second)] == ["rejected", "withdrawn"]
    refused("client-wrong-status", "is active; only a pending client can be rejected",
            svc.reject_client, w.ctx, actor_id=None, client_id=AMINA, reason="Not eligible")
    refused("client-date-not-allowed", "before the submission date", svc.withdraw_client,
            w.ctx, actor_id=None, client_id=new_person(w), reason="Client changed mind",
            withdrawal_date=dt.date(2026, 1, 1))
    refused("client-wrong-status", "only a withdrawn client can have its withdrawal undone",
            svc.undo_withdrawal, w.ctx, actor_id=None, client_id=first)
    svc.undo_rejection(w.ctx, actor_id=None, client_id=first)
    svc.undo_withdrawal(w.ctx, actor_id=None, client_id=second)
    c = client(w, first)
    assert (c.status.value, c.rejection_date, c.rejection_reason_id) == ("pending", None, None)
    with w.ctx.session_factory() as s:
        history = [h.to_status for h in s.get(Client, first).status_history]
    assert history == ["pending", "rejected", "pending"]


def test_edit_refused_for_closed_client(kilimani):
    w = kilimani
    svc.close_client(w.ctx, actor_id=None, client_id=DALIA, closure_reason="Moved away")
    refused("client-wrong-status", "is closed; only a pending or active or transfer in "
            "progress or transfer on hold client can be edited", svc.edit_client, w.ctx,
            actor_id=None, client_id=DALIA, changes={"first_name": "D"})
