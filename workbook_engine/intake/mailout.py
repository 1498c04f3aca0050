"""Sending replies: through SMTP when a host is configured, else into an outgoing Maildir."""

from __future__ import annotations

import logging
import mailbox
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from workbook_engine.intake.settings import MailSettings

log = logging.getLogger("workbook_engine.intake")

_XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def build_reply(settings: MailSettings, *, to: str, subject: str, body: str,
                in_reply_to: str | None = None, attachments: list[Path] = ()) -> EmailMessage:
    """A plain-text reply with files attached (reports are xlsx, others octet-stream)."""
    message = EmailMessage()
    message["From"] = settings.from_address
    message["To"] = to
    message["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="workbook-engine")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content(body)
    for path in attachments:
        maintype, subtype = _XLSX if path.suffix.lower() == ".xlsx" else \
            ("application", "octet-stream")
        message.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype,
                               filename=path.name)
    return message


def send(settings: MailSettings, message: EmailMessage, outgoing: Path) -> str:
    """Send a message; returns where it went (``smtp://host:port`` or the Maildir path)."""
    if settings.smtp_host:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            smtp.send_message(message)
        where = f"smtp://{settings.smtp_host}:{settings.smtp_port}"
    else:
        box = mailbox.Maildir(outgoing, create=True)
        box.add(message)
        box.close()
        where = str(outgoing)
    log.info("reply to %s (%s) sent to %s", message["To"], message["Subject"], where)
    return where
