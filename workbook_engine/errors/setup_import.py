"""Errors of the setup and migration workbooks (offices, staff, centers, groups, products,
live loans, savings): what only a workbook can get wrong. The rules of each record are the
setup services' own, reported with their codes (``duplicate-value``, ``date-not-allowed``,
``staff-not-usable``, ``migration-figures``, ...)."""

from workbook_engine.errors import define

AREA = "setup import"

SETUP_NO_ROWS = define(
    "setup-no-rows", "The workbook holds no row to import",
    "Fill in at least one row below the headers and send it again.", area=AREA)
SETUP_COLUMN_MISSING = define(
    "setup-column-missing", "A mandatory column of the workbook is missing",
    "Put the column back with its original heading (copy it from a new template made with "
    "`workbook-engine template setup --kind KIND`).", area=AREA)
SETUP_BAD_VALUE = define(
    "setup-bad-value", "A cell does not hold the kind of value its column takes",
    "Enter a date as a date (YYYY-MM-DD), an amount or a whole number as a number, and choose "
    "listed values from the drop-down.", area=AREA)
SETUP_MISSING_VALUE = define(
    "setup-missing-value", "A mandatory cell is empty",
    "Fill in the cell: the columns marked * are mandatory.", area=AREA)
SETUP_NOT_LOADED_YET = define(
    "setup-not-loaded-yet", "The row names a record that is not in the engine yet",
    "Load the records it depends on first, in this order: offices, staff, centers, groups, "
    "products, clients, loans, savings. Fill the template the message names, send it, have "
    "it approved, then send this workbook again (the rows already imported are skipped).",
    area=AREA)
SETUP_LATER_ROW = define(
    "setup-later-row", "The row names a record defined on a row below it",
    "Rows are posted from top to bottom: move the row that defines the record (e.g. the "
    "parent office) above the rows that name it.", area=AREA)
SETUP_EARLIER_ROW_INVALID = define(
    "setup-earlier-row-invalid", "The row names a record whose own row has errors",
    "Correct the earlier row first; this row is imported together with it once it is "
    "valid.", area=AREA)
SETUP_AMBIGUOUS_NAME = define(
    "setup-ambiguous-name", "Several records have the name the row gives",
    "Choose the value from the drop-down (clients are listed as 'name #id'), or give the "
    "client's external id.", area=AREA)
SETUP_DUPLICATE_IN_FILE = define(
    "setup-duplicate-in-file", "The same row key appears on two rows",
    "Give each row its own row key.", area=AREA)
SETUP_NO_VALID_ROWS = define(
    "setup-no-valid-rows", "No row of the workbook can be posted",
    "Correct the red cells of the report and send it again.", area=AREA)
SETUP_WRONG_KIND = define(
    "setup-wrong-kind", "This kind of setup workbook is not known",
    "Use one of the kinds offices, staff, centers, groups, products, loans, savings.",
    area=AREA)
