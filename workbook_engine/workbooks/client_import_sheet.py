"""The client-import template, declared once: its three sheets, columns and dropdown lists.

``CLIENT_IMPORT`` (a :class:`~workbook_engine.workbooks.declaration.WorkbookKind`) drives the
template and report writer (``client_import_writer``), the reader (``client_import_reader``,
which also recognises Mifos X / Fineract workbooks by the columns' ``aliases``), the pandera
schema (:func:`pandera_schema`) and the reports. A template is made for one legal form (the
kind's *variant*: ``person`` or ``entity``); columns of the other form are left out.

Every grid sheet (rows as in Excel)::

    1      column headers ("*" marks a mandatory column; a comment says what it takes)
    2      column keys (hidden), e.g. first_name, additional:3
    3...   one row per client (family member, address); column A is the row key

Sheets: "Instructions", "Clients", "Family members", "Addresses" (both linked to a client by
its row key), "_lookups" (hidden: every dropdown list, each a defined name) and the signed
"_workbook" metadata sheet (very hidden; kind ``client_import``, template version, office,
legal form). The last column of each grid, "Import status", is written by the engine in the
report ("Imported: client 1042", or the errors) and ignored when reading.

Dropdown list names (``ColumnSpec.choices``): ``offices``, ``staff`` (the chosen office's
active staff; per office when several offices are allowed), ``groups``, ``legal_forms``,
``yes_no``, ``row_keys`` (the client rows) and ``code:<code name>`` for every code list.
"""

from __future__ import annotations

from workbook_engine.workbooks.declaration import (
    CellType,
    ColumnSpec,
    SheetSpec,
    WorkbookKind,
    header_text,
)

KIND = "client_import"
CLIENTS_SHEET = "Clients"
FAMILY_SHEET = "Family members"
ADDRESS_SHEET = "Addresses"
INSTRUCTIONS_SHEET = "Instructions"
LOOKUP_SHEET = "_lookups"
STATUS_KEY = "status"
ROW_KEY = "row_key"
PERSON, ENTITY = "person", "entity"

_C = CellType


def _code(key: str, header: str, code: str, *, variant: str | None = None,
          aliases: tuple[str, ...] = (), help: str = "", mandatory: bool = False,
          ) -> ColumnSpec:
    return ColumnSpec(key, header, _C.CHOICE, input=True, choices=f"code:{code}", width=16,
                      variant=variant, aliases=aliases, mandatory=mandatory,
                      help=help or f"Choose the {header.lower()} from the list.")


def _yes_no(key: str, header: str, help: str, *, variant: str | None = None,
            aliases: tuple[str, ...] = (), mandatory: bool = False) -> ColumnSpec:
    return ColumnSpec(key, header, _C.CHOICE, input=True, choices="yes_no", width=9,
                      variant=variant, aliases=aliases, mandatory=mandatory, help=help)


def _text(key: str, header: str, help: str, *, width: float = 16, variant: str | None = None,
          aliases: tuple[str, ...] = (), mandatory: bool = False) -> ColumnSpec:
    return ColumnSpec(key, header, _C.TEXT, input=True, width=width, variant=variant,
                      aliases=aliases, mandatory=mandatory, help=help)


def _date(key: str, header: str, help: str, *, variant: str | None = None,
          aliases: tuple[str, ...] = (), mandatory: bool = False) -> ColumnSpec:
    return ColumnSpec(key, header, _C.DATE, input=True, width=13, variant=variant,
                      aliases=aliases, mandatory=mandatory,
                      help=help + " A date, YYYY-MM-DD.")


_STATUS = ColumnSpec(STATUS_KEY, "Import status", _C.TEXT, width=40,
                     aliases=("Status", "Import status"),
                     help="Written by the engine: 'Imported: client N' or what to correct.")

CLIENT_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec(ROW_KEY, "Row key", _C.TEXT, input=True, width=8, mandatory=True,
               help="A short reference of the row, unique in the file (pre-filled); the "
               "Family members and Addresses sheets name the client by it."),
    ColumnSpec("office", "Office", _C.CHOICE, input=True, choices="offices", width=20,
               mandatory=True, aliases=("Office Name",),
               help="Choose the client's office from the list."),
    ColumnSpec("legal_form", "Legal form", _C.CHOICE, input=True, choices="legal_forms",
               width=10, help="Person or Entity; blank means the form of this template."),
    _text("first_name", "First name", "The person's first name (at most 50 characters).",
          variant=PERSON, mandatory=True, aliases=("First Name",)),
    _text("middle_name", "Middle name", "The person's middle name, if any.", variant=PERSON,
          aliases=("Middle Name",)),
    _text("last_name", "Last name", "The person's last name (at most 50 characters).",
          variant=PERSON, mandatory=True, aliases=("Last Name",)),
    _text("full_name", "Name", "The entity's name (at most 160 characters).", width=28,
          variant=ENTITY, mandatory=True,
          aliases=("Full Name", "Business Name", "Full/Business Name", "Entity Name")),
    _text("mobile_no", "Mobile number", "Digits only, 9 to 15, optionally starting with +; "
          "leading zeros are kept (the cell is text).", width=15,
          aliases=("Mobile Number", "Mobile No")),
    _text("email", "E-mail", "An e-mail address, if any.", width=22,
          aliases=("Email", "Email Address")),
    _date("date_of_birth", "Date of birth", "The person's date of birth.", variant=PERSON,
          aliases=("Date of Birth", "DOB")),
    _code("gender", "Gender", "gender", variant=PERSON, aliases=("Gender",)),
    _date("incorporation_date", "Incorporation date", "The date the entity was "
          "incorporated (not in the future).", variant=ENTITY,
          aliases=("Incorporation Date",)),
    _date("incorporation_valid_till", "Incorporation valid till", "The date the "
          "incorporation is valid till (not before the incorporation date).", variant=ENTITY,
          aliases=("Incorporation Validity Till Date", "Incorporation Valid Till")),
    _text("incorporation_number", "Incorporation number", "The registration number.",
          variant=ENTITY, aliases=("Incorporation Number",)),
    _code("constitution", "Constitution", "constitution", variant=ENTITY,
          aliases=("Constitution",)),
    _code("main_business_line", "Main business line", "main_business_line", variant=ENTITY,
          aliases=("Main Business Line",)),
    _text("remarks", "Remarks", "Any remarks (at most 500 characters).", width=24,
          variant=ENTITY, aliases=("Remarks",)),
    _code("client_type", "Client type", "client_type", aliases=("Client Type",)),
    _code("client_classification", "Classification", "client_classification",
          aliases=("Client Classification", "Classification")),
    _text("external_id", "External id", "Any reference unique to this client (e.g. the "
          "application form number); never used twice.", width=14,
          aliases=("External ID", "External Id")),
    ColumnSpec("staff", "Staff", _C.CHOICE, input=True, choices="staff", width=20,
               aliases=("Staff Name", "Loan Officer"),
               help="Choose the loan officer: an active member of staff of the client's "
               "office."),
    ColumnSpec("group", "Group", _C.CHOICE, input=True, choices="groups", width=18,
               aliases=("Group Name",), help="The active group of the office the client "
               "joins, if any."),
    _date("submitted_on", "Submitted on", "The day the client applied (blank: today); not "
          "in the future, not before the office opened.",
          aliases=("Submitted On Date", "Submitted On")),
    _yes_no("active", "Active", "Yes: the client is active from the activation date; No: "
            "the client stays pending.", mandatory=True, aliases=("Active",)),
    _date("activation_date", "Activation date", "When Active is Yes (blank: the submission "
          "date); not in the future, not before the submission date or the office opening.",
          aliases=("Activation Date",)),
    _yes_no("is_staff", "Is staff", "Yes when the client is also a member of staff.",
            variant=PERSON, aliases=("Is Staff",)),
    ColumnSpec("additional", "Additional detail", _C.TEXT, input=True, per="custom_field",
               width=16, help="An additional client detail of the institution."),
    _STATUS,
)

FAMILY_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec(ROW_KEY, "Client row key", _C.CHOICE, input=True, choices="row_keys", width=9,
               mandatory=True, help="The row key of the client (column A of Clients)."),
    _text("first_name", "First name", "The family member's first name.", mandatory=True),
    _text("middle_name", "Middle name", "The family member's middle name, if any."),
    _text("last_name", "Last name", "The family member's last name."),
    _code("relationship", "Relationship", "family_relationship"),
    _code("gender", "Gender", "gender"),
    _code("marital_status", "Marital status", "marital_status"),
    _code("profession", "Profession", "profession"),
    _date("date_of_birth", "Date of birth", "The family member's date of birth (in the "
          "past)."),
    ColumnSpec("age", "Age", _C.INTEGER, input=True, width=6,
               help="Age in whole years, 0 to 150 (blank: from the date of birth)."),
    _yes_no("is_dependent", "Dependent", "Yes when the member depends on the client."),
    _text("mobile_no", "Mobile number", "Digits only, 9 to 15, optionally starting with +.",
          width=15),
    _yes_no("is_contact", "Contact person", "Yes: the person to contact when the client "
            "cannot be reached."),
    _STATUS,
)

ADDRESS_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec(ROW_KEY, "Client row key", _C.CHOICE, input=True, choices="row_keys", width=9,
               mandatory=True, help="The row key of the client (column A of Clients)."),
    _code("address_type", "Address type", "address_type", aliases=("Address Type",)),
    _text("street", "Street", "Street and number.", width=22, aliases=("Street",)),
    _text("line_1", "Address line 1", "Address line 1.", width=20,
          aliases=("Address Line 1", "Address Line1")),
    _text("line_2", "Address line 2", "Address line 2.", width=20,
          aliases=("Address Line 2", "Address Line2")),
    _text("line_3", "Address line 3", "Address line 3.", width=20,
          aliases=("Address Line 3", "Address Line3")),
    _text("city", "City", "Town or city.", aliases=("City",)),
    _text("state_province", "State / province", "State, province or county.",
          aliases=("State", "State/Province", "Province")),
    _text("country", "Country", "Country.", aliases=("Country",)),
    _text("postal_code", "Postal code", "Postal code (at most 20 characters).", width=11,
          aliases=("Postal Code", "Zip Code")),
    _yes_no("active", "Active", "Yes (blank) when the address is in use.",
            aliases=("Is active address?", "Is Active Address", "Address Active")),
    _STATUS,
)

CLIENT_IMPORT = WorkbookKind(
    name=KIND,
    title="Client import",
    template_version=1,
    data_sheet=CLIENTS_SHEET,
    metadata_sheet="_workbook",
    header_fields=(),
    columns=CLIENT_COLUMNS,
    metadata_fields=("workbook_id", "kind", "template_version", "center_id", "group_id",
                     "meeting_date", "generated_at", "key_id", "office_id", "variant"),
    section_row=1,
    header_row=1,
    key_row=2,
    first_data_row=3,
    extra_sheets=(SheetSpec(FAMILY_SHEET, FAMILY_COLUMNS),
                  SheetSpec(ADDRESS_SHEET, ADDRESS_COLUMNS)),
)
"""The client-import kind (template version 1)."""

YES = ("yes", "y", "true", "1", "x", "active")
NO = ("no", "n", "false", "0", "")


def pandera_schema(legal_form: str = PERSON) -> object:
    """A pandera DataFrame schema of the Clients sheet (headers as written), from the
    declaration: the mandatory columns must be filled, dates must be dates, and the text
    columns are strings. Used for a plain pandas read of a template (the benchmark's
    baseline); the engine's own path validates cell by cell with the same rules."""
    import pandera.pandas as pa

    columns: dict[str, pa.Column] = {}
    for column in CLIENT_IMPORT.expand({}, legal_form):
        spec = column.spec
        if spec.key == STATUS_KEY:
            continue
        header = header_text(spec, column.header)
        if spec.type is CellType.DATE:
            columns[header] = pa.Column("datetime64[ns]", nullable=True, coerce=True,
                                        required=False)
        elif spec.type is CellType.INTEGER:
            columns[header] = pa.Column(float, nullable=True, coerce=True, required=False)
        else:
            checks = [pa.Check.str_length(max_value=500)]
            columns[header] = pa.Column(str, checks=checks, nullable=not spec.mandatory,
                                        coerce=True, required=spec.mandatory)
    return pa.DataFrameSchema(columns, strict=False)
