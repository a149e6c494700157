"""The subject graph table (subjects.SUBJECT_GRAPH) against the builders that yield subjects.

The docs render the table as the list of streams a rule runs over; these tests keep it true:
every subject a built-in target yields is a row of the table whose fields the target
provides, and every row is yielded by some built-in target.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import pytest

from streamspec.conformance.catalogue import ROLES
from streamspec.conformance.subjects import (
    SUBJECT_GRAPH,
    Subject,
    SubjectKind,
    buffered_channels,
    byte_channels,
    byte_pairs,
    listener_subjects,
    object_pairs,
    text_channels,
    text_sinks,
    unreliable_pairs,
)
from streamspec.conformance.target import Target
from streamspec.conformance.targets import ANYIO, STREAMSPEC
from streamspec.conformance.targets_asyncio import ASYNCIO
from streamspec.conformance.targets_trio import TRIO

BUILDERS: dict[str, Callable[[Target], list[Subject[Any]]]] = {
    "byte pair": byte_pairs,
    "byte channel": byte_channels,
    "buffered channel": buffered_channels,
    "text channel": lambda target: list(text_channels(target, "utf-8", "strict")),
    "text sink": lambda target: list(text_sinks(target, "utf-8", "strict")),
    "object pair": object_pairs,
    "unreliable object pair": unreliable_pairs,
    "listener": listener_subjects,
}
TARGETS = [STREAMSPEC, ANYIO, ASYNCIO, TRIO]


def _names(kind: SubjectKind, target: Target, name: str) -> bool:
    if kind.explicit:
        return any(name == entry for entry, _ in target.factories(kind.fields[0]))
    pattern = re.escape(kind.name)
    for placeholder in ("<pair>", "<channel>", "<listener>"):
        pattern = pattern.replace(re.escape(placeholder), ".+")
    return re.fullmatch(pattern, name) is not None


def _rows(target: Target, shape: str, name: str) -> list[SubjectKind]:
    return [kind for kind in SUBJECT_GRAPH if shape in kind.shapes and _names(kind, target, name)]


@pytest.mark.parametrize("target", TARGETS, ids=lambda target: target.name)
def test_every_subject_a_target_yields_is_a_row_whose_fields_it_provides(target: Target) -> None:
    for shape, build in BUILDERS.items():
        for subject in build(target):
            rows = _rows(target, shape, subject.name)
            assert len(rows) == 1, f"{shape} {subject.name!r} of {target.name}: rows {rows}"
            missing = [field for field in rows[0].fields if not target.provides(field)]
            assert not missing, f"{subject.name!r} of {target.name} is built without {missing}"


def test_every_row_is_yielded_by_a_built_in_target() -> None:
    yielded = {
        id(kind)
        for target in TARGETS
        for shape, build in BUILDERS.items()
        for subject in build(target)
        for kind in _rows(target, shape, subject.name)
    }
    assert [kind.name for kind in SUBJECT_GRAPH if id(kind) not in yielded] == []


def test_the_graph_names_real_fields_roles_and_shapes() -> None:
    fields = {field.name for field in dataclasses.fields(Target)}
    for kind in SUBJECT_GRAPH:
        assert set(kind.fields) <= fields, kind
        assert set(kind.roles) <= set(ROLES), kind
        assert set(kind.shapes) <= set(BUILDERS), kind
