"""Errors of the client import: the template, the rows of a filled workbook, approval.

The details of a client, family member or address are checked by the client validators and
reported with the client area's codes (``client-field-missing``, ``client-field-invalid``,
``client-duplicate``, ``client-date-not-allowed``, ``client-staff-not-assignable``); the codes
here are what only an import can get wrong.
"""

from workbook_engine.errors import define

AREA = "client import"

IMPORT_NOTHING_TO_IMPORT = define(
    "import-no-rows", "The workbook holds no client to import",
    "Fill in at least one row of the Clients sheet (below the headers) and send it again.",
    area=AREA)
IMPORT_COLUMN_MISSING = define(
    "import-column-missing", "A mandatory column of the client import is missing",
    "Put the column back with its original heading (copy it from a new template made with "
    "`workbook-engine template clients`).", area=AREA)
IMPORT_DUPLICATE_IN_FILE = define(
    "import-duplicate-in-file", "The same mobile number, external id or row key appears on "
    "two rows of the file",
    "Keep the value on one row only: each client has their own mobile number, external id "
    "and row key.", area=AREA)
IMPORT_OFFICE_NOT_ALLOWED = define(
    "import-office-not-allowed", "The office is not one this template is for",
    "Choose the office from the drop-down: the template's office or one of its branches.",
    area=AREA)
IMPORT_UNKNOWN_NAME = define(
    "import-unknown-name", "The office, staff or group name is not known",
    "Choose the value from the drop-down; a name typed by hand must match the record exactly "
    "(`offices list`, `staff list`, `groups list`).", area=AREA)
IMPORT_AMBIGUOUS_NAME = define(
    "import-ambiguous-name", "Several records answer to the staff or group name given",
    "Choose the value from the drop-down, which tells them apart (a group as 'Group "
    "(Center)', with its office or id when needed; a member of staff with their id).",
    area=AREA)
IMPORT_WRONG_LEGAL_FORM = define(
    "import-wrong-legal-form", "The row's legal form is not the template's",
    "Leave the legal form blank, or import persons and entities with a template of each "
    "form (`template clients --legal-form entity`).", area=AREA)
IMPORT_BAD_YES_NO = define(
    "import-bad-yes-no", "A yes/no cell holds something else",
    "Choose Yes or No from the drop-down.", area=AREA)
IMPORT_ROW_KEY_UNKNOWN = define(
    "import-row-key-unknown", "A family member or address names a client row that is not in "
    "the file",
    "Choose the client's row key (column A of the Clients sheet) from the drop-down.",
    area=AREA)
IMPORT_RELATED_INVALID = define(
    "import-related-invalid", "A family member or address of the client has errors",
    "Correct the red cells of the client's rows on the Family members and Addresses sheets; "
    "a client is imported together with all of them, or not at all.", area=AREA)
IMPORT_NO_VALID_ROWS = define(
    "import-no-valid-rows", "No row of the import can be posted",
    "Correct the red cells of the report and send it again.", area=AREA)
