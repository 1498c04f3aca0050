"""Drop-down labels never read the same for two records, and each answers to one record."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbook_engine.domain.labels import answering, distinct_labels, group_spellings

NAMES = st.sampled_from(["Umoja", "Nguvu", "Umoja (Kilimani)"])
CENTERS = st.sampled_from([None, "Kilimani", "Amani"])
OFFICES = st.sampled_from(["Nairobi East", "Kisumu"])


def test_a_group_is_shown_with_its_center_and_more_only_when_needed() -> None:
    groups = {1: ("Umoja", "Kilimani", "Nairobi East"), 2: ("Umoja", "Amani", "Nairobi East"),
              3: ("Umoja", "Kilimani", "Kisumu"), 4: ("Umoja", "Kilimani", "Kisumu"),
              5: ("Nguvu", None, "Kisumu")}
    spellings = {i: group_spellings(n, c, o, i) for i, (n, c, o) in groups.items()}
    assert distinct_labels(spellings, {i: g[0] for i, g in groups.items()}) == {
        1: "Umoja (Kilimani, Nairobi East)", 2: "Umoja (Amani)",
        3: "Umoja (Kilimani, Kisumu, group 3)", 4: "Umoja (Kilimani, Kisumu, group 4)",
        5: "Nguvu"}


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(NAMES, CENTERS, OFFICES), min_size=1, max_size=12))
def test_labels_are_distinct_and_each_names_one_group(
        groups: list[tuple[str, str | None, str]]) -> None:
    spellings = {i: group_spellings(n, c, o, i) for i, (n, c, o) in enumerate(groups)}
    names = {i: g[0] for i, g in enumerate(groups)}
    labels = distinct_labels(spellings, names)
    assert len(set(labels.values())) == len(groups)
    every = [(i, (names[i], *spellings[i])) for i in spellings]
    for i, label in labels.items():
        assert answering(every, [label]) == [i]
        assert "(" in label or groups[i][1] is None  # a group of a center shows it
