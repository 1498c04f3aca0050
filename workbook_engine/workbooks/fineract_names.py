"""How Mifos X / Apache Fineract write the names of records in their import workbooks.

Fineract's bulk-import populators (``infrastructure/bulkimport/populator``) fill their
drop-downs with names that are not written the way the records are called:

* offices, payment types and currencies with spaces and brackets replaced by underscores
  (``office.getName().trim().replaceAll("[ )(]", "_")``: "Head Office" -> "Head_Office");
* staff by their display name, last name first ("Doe, Michael");
* clients with their Fineract id appended ("Michael Doe(12)"), groups and centers sometimes
  as "Name-12";
* loan accounts as "000000012-Active" (account number and status).

:func:`spellings` lists, for a name read from such a workbook, the ways the engine may know
the record, most literal first. A lookup takes the first spelling that matches something and
refuses when it matches several records (never guessing between them).
"""

from __future__ import annotations

import re

_THEIR_ID = re.compile(r"^(.*\S)\s*(?:\((\d+)\)|-\s*(\d+))$")
_OUR_ID = re.compile(r"^(.*\S)\s*#(\d+)$")
_ACCOUNT_STATUS = re.compile(r"^\s*(\d+)\s*-\s*[A-Za-z][A-Za-z ]*$")


def without_id(text: str) -> str:
    """A name without the id a drop-down adds ("Amina #12", "Amina(12)", "Amina-12")."""
    for pattern in (_OUR_ID, _THEIR_ID):
        match = pattern.match(text.strip())
        if match:
            return match.group(1)
    return text.strip()


def their_id(text: str) -> int | None:
    """The Fineract id written after a name ("Amina(12)" -> 12), if any."""
    match = _THEIR_ID.match(text.strip())
    if not match:
        return None
    return int(match.group(2) or match.group(3))


def _last_first(text: str) -> str | None:
    """ "Doe, Michael" -> "Michael Doe" (Fineract's staff display name)."""
    last, comma, first = text.partition(",")
    if not comma or not last.strip() or not first.strip() or "," in first:
        return None
    return f"{first.strip()} {last.strip()}"


def spellings(text: str) -> list[str]:
    """Every way the engine may know a name read from a Fineract workbook, case-folded,
    most literal first: as written, without an added id, with underscores as spaces, and
    "Last, First" as "First Last"."""
    raw = " ".join(text.split())
    candidates = [raw, without_id(raw)]
    for name in list(candidates):
        if "_" in name:
            candidates.append(" ".join(name.replace("_", " ").split()))
    for name in list(candidates):
        swapped = _last_first(name)
        if swapped:
            candidates.append(swapped)
    return list(dict.fromkeys(c.casefold() for c in candidates if c))


def account_number(text: str) -> str:
    """A loan or savings account number as Fineract's drop-down writes it ("000000012-Active"
    -> "000000012"); other text as it is."""
    match = _ACCOUNT_STATUS.match(text)
    return match.group(1) if match else text.strip()


__all__ = ["account_number", "spellings", "their_id", "without_id"]
