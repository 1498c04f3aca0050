"""Errors of the intake: received files and e-mails that are not taken in."""

from workbook_engine.errors import define

AREA = "intake"

NOT_A_WORKBOOK_OF_OURS = define(
    "intake-not-ours", "The received file is not a workbook of ours or cannot be read",
    "Send the workbook the engine generated for the meeting (Excel .xlsx), filled in and "
    "saved in Excel; do not send other files to the inbox.", area=AREA)
PROCESSING_FAILED = define(
    "intake-failed", "The received file could not be processed, even after several tries",
    "Tell the system administrator: the file is kept in quarantine/ and the engine's log "
    "(logs/) says what went wrong; send the sheet again once it is fixed.", area=AREA)
SENDER_UNKNOWN = define(
    "intake-sender-unknown", "The e-mail does not come from an active member of staff",
    "Send sheets from the e-mail address recorded for you in the engine, or ask an "
    "administrator to record your address (`workbook-engine staff`).", area=AREA)
SENDER_NOT_ASSIGNED = define(
    "intake-center-not-assigned", "A loan officer sent the sheet of a center not assigned "
    "to them",
    "Let the center's own loan officer send the sheet, or ask a supervisor to re-assign the "
    "center or to send it for you.", area=AREA)
GROUP_NOT_ASSIGNED = define(
    "intake-group-not-assigned", "A loan officer sent the sheet of a group not assigned to "
    "them",
    "Let the group's own loan officer (or its center's) send the sheet, or ask a supervisor "
    "to re-assign the group or to send it for you.", area=AREA)
NO_SHEET_ATTACHED = define(
    "intake-no-sheet", "The e-mail has no sheet attached",
    "Attach the filled-in workbook (.xlsx) to the e-mail and send it again.", area=AREA)
