"""Client and group names in the HTML reports, and their links in the web pages.

The HTML report in ``outbox/`` is a stand-alone file: a supervisor opens it from disk and it
is attached to the e-mail reply to the loan officer. A link in it could only be wrong there:
a root-relative ``/clients/12`` opens ``file:///clients/12``, and an absolute one needs the
address of the web server, which the engine does not know (``serve`` listens on 127.0.0.1 by
default, a reverse proxy has its own name) and which a loan officer in the field cannot
reach. So the file names the client, with "client 12" as a tooltip, and links nothing.

The web pages show the very same file inside the submission page; :func:`link_records`
turns each marked name into a link to the client or group page there. Names are marked by
:data:`MARK` in the report templates (through the ``record`` macro of
``templates/_record.html.j2``), so the file stays the one record of what was reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MARK = re.compile(r'<span class="record" data-kind="(client|group)" data-id="(\d+)"'
                  r' title="[^"<>]*">([^<]*)</span>')
"""A marked name as the report templates write it. The name is autoescaped (no ``<``), so
text typed by a user can never look like a mark."""


def link_records(html: str, href: Callable[[str, int], str]) -> str:
    """The report with every marked client or group name turned into a link that opens
    ``href(kind, id)`` in the whole window (the report is shown in a frame)."""
    def link(match: re.Match[str]) -> str:
        kind, record_id, name = match.group(1), int(match.group(2)), match.group(3)
        return (f'<a class="record" href="{href(kind, record_id)}" target="_top" '
                f'title="Open the {kind} page">{name}</a>')
    return MARK.sub(link, html)
