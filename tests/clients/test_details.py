"""Family, addresses, documents, additional details, codes and the read-side pages."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.clients.test_lifecycle import AMINA, BARAKA, audits, refused
from workbook_engine.domain import FamilyMember
from workbook_engine.services.clients import contacts
from workbook_engine.services.clients import documents as docs
from workbook_engine.services.clients.fields import define_client_field, list_client_fields
from workbook_engine.services.clients.views import client_page, list_codes, show_loan
from workbook_engine.services.clients.views import show_savings
from workbook_engine.services.clients.lifecycle import edit_client

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def test_family_members_add_edit_remove_list(kilimani):
    w = kilimani
    juma = contacts.add_family_member(w.ctx, actor_id=None, client_id=AMINA,
                                      first_name=" Juma ", last_name="Wanjiku",
                                      relationship="Spouse", gender="Male",
                                      date_of_birth=dt.date(1980, 3, 4), profession="Farmer",
                                      marital_status="Married", mobile_no="0733 000 111",
                                      is_contact=True)
    kid = contacts.add_family_member(w.ctx, actor_id=None, client_id=AMINA, first_name="Ali",
                                     relationship="Child", age=7, is_dependent=True)
    refused("client-field-invalid", "Juma Wanjiku (family member 1) is already client 1's "
            "contact", contacts.edit_family_member, w.ctx, actor_id=None, member_id=kid,
            changes={"is_contact": True, "age": 8})
    contacts.edit_family_member(w.ctx, actor_id=None, member_id=kid, replace_contact=True,
                                changes={"is_contact": True, "age": 8})
    rows = contacts.list_family_members(w.ctx, AMINA)
    assert [(r["name"], r["relationship"], r["age"], r["is_contact"]) for r in rows] == [
        ("Juma Wanjiku", "Spouse", 45, False), ("Ali", "Child", 8, True)]
    assert rows[0]["mobile_no"] == "0733000111"
    refused("client-field-missing", "The first name of a family member is mandatory",
            contacts.add_family_member, w.ctx, actor_id=None, client_id=AMINA, last_name="X")
    refused("client-field-invalid", "The relationship 'Cousin' is not one of its values",
            contacts.edit_family_member, w.ctx, actor_id=None, member_id=juma,
            changes={"relationship": "Cousin"})
    refused("client-field-invalid", "is not in the past", contacts.add_family_member, w.ctx,
            actor_id=None, client_id=AMINA, first_name="B", date_of_birth="2027-01-01")
    refused("client-field-invalid", "'shoe' is not a detail of a family member",
            contacts.add_family_member, w.ctx, actor_id=None, client_id=AMINA, shoe=1)
    contacts.remove_family_member(w.ctx, actor_id=None, member_id=juma)
    with w.ctx.session_factory() as s:
        assert s.scalars(select(FamilyMember.id)).all() == [kid]
    assert audits(w, "family_member.remove")[0].before["first_name"] == "Juma"
    refused("not-found", "There is no family member with id 99", contacts.remove_family_member,
            w.ctx, actor_id=None, member_id=99)


def test_addresses_add_edit_remove_list(kilimani):
    w = kilimani
    home = contacts.add_address(w.ctx, actor_id=None, client_id=AMINA, address_type="Residence",
                                street="Moi Avenue 4", city="Nairobi", country="Kenya",
                                postal_code="00100")
    contacts.edit_address(w.ctx, actor_id=None, address_id=home,
                          changes={"city": " Kisumu ", "active": False})
    [row] = contacts.list_addresses(w.ctx, AMINA)
    assert (row["address_type"], row["city"], row["active"]) == ("Residence", "Kisumu", False)
    refused("client-field-invalid", "The address type 'Castle'", contacts.add_address, w.ctx,
            actor_id=None, client_id=AMINA, address_type="Castle", city="X")
    refused("client-field-missing", "An address needs at least", contacts.add_address, w.ctx,
            actor_id=None, client_id=AMINA)
    refused("client-field-invalid", "at most 20 are allowed", contacts.edit_address, w.ctx,
            actor_id=None, address_id=home, changes={"postal_code": "1" * 21})
    contacts.remove_address(w.ctx, actor_id=None, address_id=home)
    assert contacts.list_addresses(w.ctx, AMINA) == []


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize("content, kind", [
    (PDF, "pdf"), (PNG, "png"), (b"\xff\xd8\xff\xe0rest", "jpeg"), (b"GIF89a...", "gif"),
    (b"II*\x00rest", "tiff"), (_docx(), "docx"), ("Jina: Amina\n".encode(), "text"),
    (b"\x00\x01\x02binary", None), (b"\xc3\x28 bad utf8", None)])
def test_sniffing_recognises_content(content, kind):
    found = docs.sniff_type(content)
    assert (found.name if found else None) == kind


def test_documents_attach_list_download_remove(any_kilimani, tmp_path: Path):
    w = any_kilimani
    (tmp_path / "id.pdf").write_bytes(PDF)
    (tmp_path / "copy.pdf").write_bytes(PDF)
    first = docs.attach_document(w.ctx, actor_id=None, client_id=AMINA,
                                 source=tmp_path / "id.pdf", name="National id",
                                 description="Both sides")
    second = docs.attach_document(w.ctx, actor_id=None, client_id=BARAKA,
                                  source=tmp_path / "copy.pdf")
    [row] = docs.list_documents(w.ctx, AMINA)
    assert (row["name"], row["content_type"], row["size"]) == ("National id",
                                                              "application/pdf", len(PDF))
    stored = w.ctx.settings.documents_dir / row["sha256"][:2] / row["sha256"]
    assert stored.read_bytes() == PDF
    out = docs.download_document(w.ctx, first, tmp_path / "out")
    assert out == tmp_path / "out" and out.read_bytes() == PDF
    refused("duplicate-value", "already exists", docs.download_document, w.ctx, first, out)
    refused("duplicate-value", "already attached", docs.attach_document, w.ctx, actor_id=None,
            client_id=AMINA, source=tmp_path / "copy.pdf")
    docs.remove_document(w.ctx, actor_id=None, document_id=first)
    assert stored.is_file()  # Baraka's document has the same content
    docs.remove_document(w.ctx, actor_id=None, document_id=second)
    assert not stored.exists()


def test_document_refusals(kilimani, tmp_path: Path):
    w = kilimani
    (tmp_path / "photo.pdf").write_bytes(PNG)
    refused("document-type-not-allowed", "The file photo.pdf is named .pdf but its content "
            "is a PNG image; rename it .png", docs.attach_document, w.ctx, actor_id=None,
            client_id=AMINA, source=tmp_path / "photo.pdf")
    (tmp_path / "tool.exe").write_bytes(b"MZ\x90\x00\x03\x00\x00\x00")
    refused("document-type-not-allowed", "The file tool.exe is not a recognised file type",
            docs.attach_document, w.ctx, actor_id=None, client_id=AMINA,
            source=tmp_path / "tool.exe")
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (10 * 1024 * 1024 + 1))
    refused("document-too-large", "is 10,485,761 bytes; documents may be at most 10,485,760",
            docs.attach_document, w.ctx, actor_id=None, client_id=AMINA, source=big)
    refused("document-unreadable", "cannot be read", docs.attach_document, w.ctx,
            actor_id=None, client_id=AMINA, source=tmp_path / "missing.pdf")
    (tmp_path / "ok.png").write_bytes(PNG)
    doc = docs.attach_document(w.ctx, actor_id=None, client_id=AMINA, source=tmp_path / "ok.png")
    [row] = docs.list_documents(w.ctx, AMINA)
    (w.ctx.settings.documents_dir / row["sha256"][:2] / row["sha256"]).write_bytes(b"damaged")
    refused("document-unreadable", "are missing or damaged", docs.download_document, w.ctx,
            doc, tmp_path / "back.png")


def test_additional_details_defined_captured_and_shown(kilimani):
    w = kilimani
    define_client_field(w.ctx, actor_id=None, name="Household size", data_type="number")
    define_client_field(w.ctx, actor_id=None, name="trade", data_type="code",
                        code="client_classification", mandatory=True, label="Main trade")
    assert [(f["name"], f["type"], f["mandatory"]) for f in list_client_fields(w.ctx)] == [
        ("household_size", "number", False), ("trade", "code", True)]
    refused("duplicate-value", "'first_name' is already a built-in", define_client_field,
            w.ctx, actor_id=None, name="first_name", data_type="text")
    refused("client-field-invalid", "The code list 'colours' does not exist",
            lambda: define_client_field(w.ctx, actor_id=None, name="colour",
                                        data_type="code", code="colours"))
    refused("client-field-invalid", "The field type 'money' is not known", define_client_field,
            w.ctx, actor_id=None, name="x", data_type="money")
    refused("client-field-missing", "The Main trade (an additional detail) is mandatory",
            edit_client, w.ctx, actor_id=None, client_id=AMINA, changes={"first_name": "A"})
    edit_client(w.ctx, actor_id=None, client_id=AMINA,
                changes={"additional": {"trade": "Trader", "household_size": "6"}})
    shown = {f["name"]: f["value"] for f in client_page(w.ctx, AMINA)["additional"]}
    assert shown == {"household_size": "6", "trade": "Trader"}


def test_a_whole_number_detail_is_kept_as_typed_not_as_an_exponent(kilimani):
    """A household of 10 is '10', not '1E+1'; 6.0 is '6'; 2.50 stays '2.50'."""
    w = kilimani
    define_client_field(w.ctx, actor_id=None, name="Household size", data_type="number")
    define_client_field(w.ctx, actor_id=None, name="Acres", data_type="number")
    for size, acres, shown in (("10", "2.50", ("10", "2.50")), (100.0, 6.0, ("100", "6"))):
        edit_client(w.ctx, actor_id=None, client_id=AMINA,
                    changes={"additional": {"household_size": size, "acres": acres}})
        values = {f["name"]: f["value"] for f in client_page(w.ctx, AMINA)["additional"]}
        assert (values["household_size"], values["acres"]) == shown


def test_client_page_has_everything_rounded(any_kilimani):
    w = any_kilimani
    contacts.add_family_member(w.ctx, actor_id=None, client_id=AMINA, first_name="Juma")
    contacts.add_address(w.ctx, actor_id=None, client_id=AMINA, city="Nairobi")
    page = client_page(w.ctx, AMINA)
    assert (page["name"], page["status"], page["staff"], page["groups"]) == (
        "Amina Wanjiku", "active", "Wanjiru Kamau", ["Umoja"])
    [loan] = page["loans"]
    assert (loan["product"], str(loan["principal"]), str(loan["outstanding"]),
            str(loan["overdue"]), loan["days_in_arrears"]) == (
        "Biashara", "10000.00", "9256.41", "925.64", 14)
    assert [str(a["balance"]) for a in page["savings"]] == ["150.00"]
    assert [h["to"] for h in page["status_history"]] == ["pending", "active"]
    assert page["family"][0]["name"] == "Juma" and page["addresses"][0]["city"] == "Nairobi"


def test_loan_and_savings_views(kilimani):
    w = kilimani
    loan = show_loan(w.ctx, 2)  # Baraka's older loan: installments 1-3 paid
    assert [str(i["paid"]) for i in loan["schedule"][:4]] == ["925.64"] * 3 + ["0.00"]
    assert str(loan["schedule"][-1]["due"]) == "925.65"
    assert [t["type"] for t in loan["transactions"]] == ["disbursement"] + ["repayment"] * 3
    assert str(loan["outstanding"]) == str(Decimal("11107.69") - 3 * Decimal("925.64"))
    savings = show_savings(w.ctx, 1)
    assert (savings["owner"], str(savings["balance"])) == ("Amina Wanjiku", "150.00")
    assert [str(t["balance"]) for t in savings["transactions"]] == ["150.00"]


def test_a_round_interest_rate_is_shown_whole(kilimani):
    """A loan at 20% a year shows 20, not '2E+1'."""
    from workbook_engine.domain import Loan

    with kilimani.ctx.session_factory.begin() as s:
        s.get(Loan, 2).annual_interest_rate = Decimal("20.0000")
    assert str(show_loan(kilimani.ctx, 2)["annual_interest_rate"]) == "20"


def test_codes_list_and_unknown_code(kilimani):
    w = kilimani
    [gender] = list_codes(w.ctx, "gender")
    assert [v["name"] for v in gender["values"]] == ["Female", "Male"]
    assert len(list_codes(w.ctx)) >= 12
    refused("not-found", "There is no code list named 'colour'", list_codes, w.ctx, "colour")
