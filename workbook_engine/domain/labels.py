"""How a list names a record so that no two entries read the same.

A drop-down (of a client import template, a setup workbook, a web form) offers each group
as "Group (Center)", each center by its name and each member of staff by their name; when two
records of the list would still read the same, the label grows (the office, then the id)
until it is unique within that list. A reader accepts every spelling of a record (its plain
name included) and refuses a text that several records answer to, naming them: it never
guesses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence


def group_spellings(name: str, center: str | None, office: str, group_id: int
                    ) -> tuple[str, ...]:
    """The labels of a group, shortest first: "Umoja (Kilimani)", "Umoja (Kilimani, Nairobi
    East)", "Umoja (Kilimani, Nairobi East, group 12)" (no center: "Umoja", ...)."""
    inner = [center] if center else []
    return (f"{name} ({center})" if center else name,
            f"{name} ({', '.join([*inner, office])})",
            f"{name} ({', '.join([*inner, office, f'group {group_id}'])})")


def center_spellings(name: str, office: str, center_id: int) -> tuple[str, ...]:
    """The labels of a center: "Kilimani", "Kilimani (Nairobi East)", "Kilimani (Nairobi
    East, center 3)"."""
    return (name, f"{name} ({office})", f"{name} ({office}, center {center_id})")


def staff_spellings(name: str, office: str, staff_id: int) -> tuple[str, ...]:
    """The labels of a member of staff: "Grace Wambui", "Grace Wambui (Nairobi East)",
    "Grace Wambui (staff 7)"."""
    return (name, f"{name} ({office})", f"{name} (staff {staff_id})")


def distinct_labels(spellings: Mapping[int, Sequence[str]],
                    names: Mapping[int, str] | None = None) -> dict[int, str]:
    """Each record's shortest label that no other record of the list answers to (its plain
    name counts as one of its spellings); the last, with the id, when all are shared."""
    count: Counter[str] = Counter()
    for key, own in spellings.items():
        plain = [names[key]] if names and key in names else []
        count.update({s.casefold() for s in [*own, *plain]})
    return {key: next((s for s in own if count[s.casefold()] == 1), own[-1])
            for key, own in spellings.items()}


def answering(records: Iterable[tuple[int, Sequence[str]]], texts: Iterable[str]
              ) -> list[int]:
    """The records one of whose spellings is the first of ``texts`` (tried in order, each
    case-insensitive) that any record answers to."""
    table = [(key, {s.casefold() for s in own}) for key, own in records]
    for text in texts:
        wanted = text.casefold().strip()
        found = [key for key, own in table if wanted in own]
        if found:
            return found
    return []
