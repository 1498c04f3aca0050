"""Errors of loans: their terms against the calendar they are repaid on."""

from workbook_engine.errors import define

AREA = "loans"

LOAN_CALENDAR_MISMATCH = define(
    "loan-calendar-mismatch", "The loan's repayments do not follow its meeting calendar",
    "A loan to a member of a center or group is repaid at its meetings: choose a loan product "
    "repaid at the calendar's rhythm or a multiple of it (a center meeting every 2 weeks takes "
    "loans repaid every 2 or 4 weeks, not weekly; a monthly calendar takes monthly loans), or "
    "move the client to a group whose calendar fits.", area=AREA)
