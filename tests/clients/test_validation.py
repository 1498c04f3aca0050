"""The pure client validators shared with bulk import: no database needed."""

from __future__ import annotations

import datetime as dt

import pytest

from workbook_engine.errors import EngineError
from workbook_engine.validation.clients import (
    CLIENT_FIELDS,
    AdditionalField,
    ClientRules,
    CodeChoice,
    StaticLookups,
    normalise_mobile,
    validate_address,
    validate_client,
    validate_client_columns,
    validate_family_member,
)

TODAY = dt.date(2026, 3, 3)
RULES = ClientRules()
LOOKUPS = StaticLookups(
    codes={"gender": [CodeChoice(1, "Female"), CodeChoice(2, "Male"),
                      CodeChoice(3, "Old value", active=False)],
           "client_type": [CodeChoice(4, "Individual")],
           "family_relationship": [CodeChoice(5, "Spouse")],
           "address_type": [CodeChoice(6, "Residence")]},
    mobiles={"0712000001": 10}, external_ids={"EXT-1": 10},
    fields=[AdditionalField(1, "national_id", "National id", "text", mandatory=True),
            AdditionalField(2, "household_size", "Household size", "number"),
            AdditionalField(3, "joined_chama", "Joined chama", "date"),
            AdditionalField(4, "favourite", "Favourite", "code", code_name="gender")])


def person(**values):
    base = {"first_name": "  Amina  ", "last_name": "Wanjiku", "additional":
            {"national_id": "12345678"}}
    base.update(values)
    return validate_client(base, legal_form="person", rules=RULES, lookups=LOOKUPS,
                           today=TODAY)


def messages(problems):
    return [(p.field, p.message) for p in problems]


def test_a_valid_person_is_cleaned():
    clean, problems = person(middle_name="", mobile_no="0712-345 678", gender="female",
                             date_of_birth="1990-05-01",
                             additional={"national_id": " 123 ", "household_size": "5.0",
                                         "Joined chama": dt.date(2020, 1, 2),
                                         "favourite": "Male"})
    assert problems == []
    assert clean.columns["first_name"] == "Amina"
    assert clean.columns["middle_name"] is None
    assert clean.columns["mobile_no"] == "0712345678"
    assert clean.columns["gender_id"] == 1
    assert clean.columns["date_of_birth"] == dt.date(1990, 5, 1)
    assert clean.additional == {1: "123", 2: "5", 3: "2020-01-02", 4: "2"}


def test_mobile_normalisation_keeps_leading_zeros_and_plus():
    assert normalise_mobile(" +254 (712) 000-001 ", RULES) == "+254712000001"
    assert normalise_mobile("0712.000.001", RULES) == "0712000001"
    _, problems = person(mobile_no=712000001)
    assert "leading zeros" in problems[0].message
    # and how to fix it: a number pasted from elsewhere has lost its zero
    assert "type it again with its leading zero" in problems[0].message


@pytest.mark.parametrize("values, field, words", [
    ({"first_name": None}, "first_name", "The first name of a person is mandatory"),
    ({"last_name": "x" * 51}, "last_name", "is 51 characters long; at most 50"),
    ({"mobile_no": "07-12"}, "mobile_no", "The mobile number '07-12' is not a valid"),
    ({"mobile_no": "0712 000 001"}, "mobile_no", "0712000001 already belongs to another"),
    ({"external_id": "EXT-1"}, "external_id", "'EXT-1' is already used"),
    ({"date_of_birth": "2026-03-04"}, "date_of_birth", "is not in the past"),
    ({"date_of_birth": "2010-01-01"}, "date_of_birth", "16 years old; clients must be 18"),
    ({"date_of_birth": "1900-01-01"}, "date_of_birth", "126 years old"),
    ({"date_of_birth": "1st Feb 1990"}, "date_of_birth", "is not a date; type it as YYYY-MM-DD"),
    ({"date_of_birth": "02/31/1990"}, "date_of_birth", "is not a real date: text dates are "
     "read day first (DD/MM/YYYY)"),
    ({"gender": "Unknown"}, "gender", "'Unknown' is not one of its values (choose one of: "
                                      "Female, Male)"),
    ({"gender": "Old value"}, "gender", "is no longer in use"),
    ({"email": "amina@"}, "email", "is not valid"),
    ({"additional": {}}, "national_id", "The National id (an additional detail) is mandatory"),
    ({"additional": {"national_id": "1", "household_size": "many"}}, "household_size",
     "'many' is not a number"),
    ({"additional": {"national_id": "1", "shoe_size": "4"}}, "shoe_size",
     "not an additional client detail"),
    ({"additional": {"national_id": "1", "favourite": "Blue"}}, "favourite",
     "'Blue' is not one of its values"),
])
def test_each_refusal_names_the_field_and_value(values, field, words):
    _, problems = person(**values)
    assert problems, values
    assert problems[0].field == field
    assert words in problems[0].message


def test_the_clients_own_mobile_is_not_taken():
    _, problems = validate_client({"first_name": "A", "last_name": "B",
                                   "mobile_no": "0712000001",
                                   "additional": {"national_id": "1"}},
                                  legal_form="person", rules=RULES, lookups=LOOKUPS,
                                  today=TODAY, client_id=10)
    assert problems == []


def test_entity_mandatory_fields_and_dates():
    _, problems = validate_client({"incorporation_date": "2020-01-01",
                                   "incorporation_valid_till": "2019-01-01",
                                   "additional": {"national_id": "1"}},
                                  legal_form="entity", rules=RULES, lookups=LOOKUPS,
                                  today=TODAY)
    assert [p.field for p in problems] == ["incorporation_valid_till", "full_name"]
    assert problems[1].message == "The name of an entity is mandatory and is missing."


def test_rules_come_from_yaml_and_bad_rules_are_one_sentence():
    rules = ClientRules.from_section({"min_age": 16, "mandatory": {"person": ["first_name",
                                                                              "mobile_no"]}})
    assert rules.min_age == 16 and rules.mandatory_for("person") == ("first_name", "mobile_no")
    with pytest.raises(EngineError, match="rules/clients.yaml"):
        ClientRules.from_section({"mandatory": {"person": ["shoe_size"]}})
    with pytest.raises(EngineError, match="rules/clients.yaml"):
        ClientRules.from_section({"mobile_pattern": "("})


def test_family_member_and_address_validators():
    cols, problems = validate_family_member({"first_name": " Juma ", "relationship": "spouse",
                                             "date_of_birth": "1990-03-04"},
                                            rules=RULES, lookups=LOOKUPS, today=TODAY)
    assert problems == [] and cols["relationship_id"] == 5 and cols["age"] == 35
    _, problems = validate_family_member({"age": 200}, rules=RULES, lookups=LOOKUPS,
                                         today=TODAY)
    assert [p.field for p in problems] == ["first_name", "age"]
    _, problems = validate_address({"address_type": "Residence"}, lookups=LOOKUPS)
    assert problems[0].message.startswith("An address needs at least")
    cols, problems = validate_address({"city": " Kisumu ", "postal_code": "40100"},
                                      lookups=LOOKUPS)
    assert problems == [] and cols["city"] == "Kisumu" and cols["active"] is True


ROWS = [
    {"first_name": "  Amina  ", "last_name": "Wanjiku", "mobile_no": "0712-345 678",
     "gender": "female", "date_of_birth": "1990-05-01"},
    {"first_name": "Amina", "last_name": "x" * 51, "mobile_no": "07-12", "gender": "Unknown"},
    {"first_name": "   ", "last_name": 1, "mobile_no": 712000001, "email": "amina@"},
    {"first_name": True, "last_name": 1.0, "mobile_no": "0712 000 001",
     "external_id": "EXT-1", "date_of_birth": dt.date(2010, 1, 1)},
    {"first_name": 1, "last_name": "B", "mobile_no": "", "date_of_birth": "01/02/1990",
     "gender": "Old value", "additional": {"household_size": "many"}},
    {"first_name": "Amina", "last_name": "Wanjiku", "mobile_no": "0712-345 678",
     "gender": "female", "date_of_birth": "1990-05-01",
     "additional": {"national_id": "  ", "favourite": "Blue"}},
]


@pytest.mark.parametrize("form", ["person", "entity"])
def test_columns_give_what_each_row_gives_alone(form):
    """The bulk path (one rule run per distinct value, C-level text passes) and the single
    client path agree on every row: cleaned values, additional details and problems."""
    rows = [dict(row, additional=row.get("additional", {"national_id": "1"}),
                 full_name=row.get("first_name"), incorporation_date="2020-01-01",
                 incorporation_valid_till="2019-01-01" if i % 2 else None)
            for i, row in enumerate(ROWS)]
    columns = {name: [row.get(name) for row in rows] for name in CLIENT_FIELDS}
    extra_names = ["national_id", "household_size", "favourite"]
    additional = {name: [row["additional"].get(name) for row in rows] for name in extra_names}
    bulk = validate_client_columns(columns, len(rows), legal_form=form, rules=RULES,
                                   lookups=LOOKUPS, today=TODAY, additional=additional)
    for i, row in enumerate(rows):
        given = dict(row, additional={name: row["additional"].get(name)
                                      for name in extra_names})
        clean, problems = validate_client(given, legal_form=form, rules=RULES,
                                          lookups=LOOKUPS, today=TODAY)
        assert {k: v[i] for k, v in bulk.columns.items()} == clean.columns, i
        assert {k: v[i] for k, v in bulk.additional.items()} == clean.additional, i
        assert bulk.problems.get(i, []) == problems, i
    assert bulk.columns["first_name"][3] is None if form == "entity" else \
        bulk.columns["first_name"][3] == "True"
    assert any("is a number" in p.message for p in bulk.problems[2])
