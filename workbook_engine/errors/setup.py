"""Errors of setting up an institution and moving its live portfolio in."""

from workbook_engine.errors import define

AREA = "setup"

STAFF_NOT_USABLE = define(
    "staff-not-usable", "This member of staff cannot take this role here",
    "Choose an active member of staff of the same office with the right role (see "
    "`staff list --office ID`), or change them with `staff edit`.", area=AREA)
STAFF_STILL_ASSIGNED = define(
    "staff-still-assigned", "The member of staff still runs centers, groups or loans",
    "Give the centers, groups and loans named in the message to another loan officer first, "
    "then deactivate.", area=AREA)
PRODUCT_TERMS = define(
    "product-terms", "A product's terms are outside the allowed range",
    "Correct the field named in the message; the limits are in rules/setup.yaml.", area=AREA)
NOT_A_MEETING_DAY = define(
    "not-a-meeting-day", "A due date is not a meeting day",
    "Use a date on which the center or group meets (`centers list` shows the next meeting).",
    area=AREA)
MIGRATION_FIGURES = define(
    "migration-figures", "A migrated account's figures do not add up",
    "Check the row against the old system's report on the migration date: arrears cannot be "
    "more than what is outstanding, and what is not in arrears must be spread over the "
    "remaining installments.", area=AREA)
