"""Errors of the web pages: signing in, sessions and forms."""

from workbook_engine.errors import define

AREA = "web"

SIGN_IN_FAILED = define(
    "sign-in-failed", "The e-mail address or password is wrong",
    "Type your e-mail address (or staff id) and password again; if you forgot the password, "
    "ask an administrator to run `workbook-engine staff set-password ID`.", area=AREA)
SIGN_IN_THROTTLED = define(
    "sign-in-throttled", "Too many failed sign-ins: wait before trying again",
    "Wait the time the message gives, then type the e-mail address and password carefully; "
    "each further wrong password doubles the wait. If you forgot the password, ask an "
    "administrator to run `workbook-engine staff set-password ID`.", area=AREA)
NOT_SIGNED_IN = define(
    "not-signed-in", "You are not signed in, or your session has ended",
    "Sign in again; sessions end after a period without use.", area=AREA)
FORM_EXPIRED = define(
    "form-expired", "The form was refused because its security token is missing or wrong",
    "Go back, reload the page and submit the form again; the page must come from this "
    "server and your session must still be open.", area=AREA)
WEAK_PASSWORD = define(
    "weak-password", "The password is too short or too common",
    "Choose a longer password (the message gives the minimum length) that is not your name "
    "or e-mail address.", area=AREA)
UPLOAD_REFUSED = define(
    "upload-refused", "The uploaded file cannot be accepted",
    "Choose the returned .xlsx workbook (not a copy pasted into a new file) and upload it "
    "again; the message says what was wrong.", area=AREA)
