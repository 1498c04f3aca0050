"""Errors of client management: details, lifecycle, staff, transfers, documents."""

from workbook_engine.errors import define

AREA = "clients"

CLIENT_FIELD_MISSING = define(
    "client-field-missing", "A mandatory client detail is missing",
    "Fill in the detail named in the message (rules/clients.yaml lists the mandatory details "
    "of a person and of an entity).", area=AREA)
CLIENT_FIELD_INVALID = define(
    "client-field-invalid", "A client detail is not acceptable",
    "Correct the detail named in the message: names within the length limit, dates written "
    "YYYY-MM-DD, a date of birth within the age range, a mobile number in the expected "
    "format, a value from the code list.", area=AREA)
CLIENT_DUPLICATE = define(
    "client-duplicate", "Another client already has this mobile number or external id",
    "Find the other client with `clients list --search`; use another value, or close or "
    "correct the other record.", area=AREA)
CLIENT_WRONG_STATUS = define(
    "client-wrong-status", "Not possible in the client's current status",
    "Check the status with `clients show ID`; the message says which statuses allow this.",
    area=AREA)
CLIENT_DATE_NOT_ALLOWED = define(
    "client-date-not-allowed", "A lifecycle date is outside what is allowed",
    "Use a date that is not in the future and not before the earlier step the message names "
    "(submission, activation, closure, office opening).", area=AREA)
CLIENT_HAS_OPEN_ACCOUNTS = define(
    "client-has-open-accounts", "The client still has open loans or savings with a balance",
    "Repay or close the loans and withdraw the savings named in the message first.",
    area=AREA)
STAFF_NOT_ASSIGNABLE = define(
    "client-staff-not-assignable", "This member of staff cannot be assigned to the client",
    "Choose an active member of staff of the client's office (`staff list --office ID`).",
    area=AREA)
TRANSFER_NOT_ALLOWED = define(
    "client-transfer-not-allowed", "This transfer is not possible",
    "Choose another office than the client's own, opened on or before the transfer date; "
    "a group to join must belong to the destination office, and a member of a group must be "
    "given one there (--to-group), so that its loans stay on a collection sheet.", area=AREA)
DOCUMENT_TOO_LARGE = define(
    "document-too-large", "The document is larger than allowed",
    "Attach a smaller file (scan at a lower resolution, or split it); the limit is "
    "document_max_bytes in rules/clients.yaml.", area=AREA)
DOCUMENT_TYPE_NOT_ALLOWED = define(
    "document-type-not-allowed", "The document's content is not an accepted file type",
    "Attach a PDF, an image (PNG, JPEG, GIF), a Word or Excel file or plain text, whose "
    "name ends with the extension of its real type.", area=AREA)
DOCUMENT_UNREADABLE = define(
    "document-unreadable", "The document's file cannot be read",
    "Check the path; for a stored document whose bytes are missing or damaged, attach the "
    "file again.", area=AREA)
