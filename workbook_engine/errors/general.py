"""Errors of the engine as a whole: configuration, lookups, permissions, state changes."""

from workbook_engine.errors import define

AREA = "general"

NOT_FOUND = define(
    "not-found", "Record not found",
    "Check the id; list the records with the matching `list` command.", area=AREA)
INVALID_VALUE = define(
    "invalid-value", "A value is not acceptable",
    "Correct the value as the message says and try again.", area=AREA)
MISSING_VALUE = define(
    "missing-value", "A mandatory value is missing",
    "Fill in the mandatory field named in the message.", area=AREA)
DUPLICATE_VALUE = define(
    "duplicate-value", "A value that must be unique is already used",
    "Use another value, or find the existing record that already has it.", area=AREA)
AMBIGUOUS_NAME = define(
    "ambiguous-name", "Several records answer to the name given",
    "Give the id of the one meant instead (the matching `list` command shows each one's id).",
    area=AREA)
NOT_ALLOWED = define(
    "not-allowed", "You may not do this",
    "Ask a member of staff with the right role (for example a supervisor) to do it.",
    area=AREA)
WRONG_STATE = define(
    "wrong-state", "Not possible in the record's current status",
    "Check the record's status with `show`; the message says which statuses allow this.",
    area=AREA)
DATE_NOT_ALLOWED = define(
    "date-not-allowed", "A date is outside what is allowed",
    "Use a date within the range the message gives.", area=AREA)
DATABASE_UNAVAILABLE = define(
    "database-unavailable", "The database cannot be reached or is not set up",
    "Run `workbook-engine init`, or check the --db URL / WORKBOOK_ENGINE_DB setting.",
    area=AREA)
CONFIGURATION = define(
    "configuration", "The engine's configuration is incomplete or wrong",
    "Correct the file or setting named in the message.", area=AREA)
INTERNAL = define(
    "internal-error", "The engine failed unexpectedly",
    "Nothing was changed. Send the log file named in the message to your administrator.",
    area=AREA)
