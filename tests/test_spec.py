"""The spec's public face: every protocol is exported, and every rule ID it cites exists."""

from __future__ import annotations

import inspect
import re

import streamspec
import streamspec.protocols as protocols
from streamspec.conformance.catalogue import ROLES, RULES

RULE_ID = re.compile(r"\[([A-Z]+(?:-[A-Z0-9]+)+)\]")

PROTOCOLS = [
    "AsyncResource",
    "TypedAttributeProvider",
    "UnreliableObjectReceiveStream",
    "UnreliableObjectSendStream",
    "UnreliableObjectStream",
    "ObjectReceiveStream",
    "ObjectSendStream",
    "ObjectStream",
    "ByteReceiveStream",
    "ByteSendStream",
    "ByteStream",
    "Listener",
    "SupportsClone",
    "SupportsSyncClose",
    "SupportsSendNowait",
    "SupportsReceiveNowait",
    "SupportsStatistics",
    "SupportsBufferedReceive",
    "SupportsUnwrap",
    "MemoryObjectReceiver",
    "MemoryObjectSender",
    "BufferedByteReceiver",
    "BufferedByteDuplex",
    "TLSByteStream",
]
ALIASES = [
    "AnyByteReceiveStream",
    "AnyByteSendStream",
    "AnyByteStream",
    "AnyUnreliableByteReceiveStream",
    "AnyUnreliableByteSendStream",
    "AnyUnreliableByteStream",
    "StrReceiveStream",
    "StrSendStream",
    "StrStream",
]


def spec_text() -> str:
    """Every docstring and comment of the protocols package."""
    modules = [protocols.resources, protocols.object_streams, protocols.byte_streams]
    modules += [protocols.listeners, protocols.amenities]
    return "\n".join(inspect.getsource(module) for module in modules)


def test_every_role_is_exported_from_the_top() -> None:
    for name in PROTOCOLS + ALIASES:
        assert name in streamspec.__all__, name
        assert getattr(streamspec, name) is getattr(protocols, name)
    assert sorted(streamspec.__all__) == sorted(set(streamspec.__all__)), "duplicate export"


def test_roles_are_protocols() -> None:
    for name in PROTOCOLS:
        cls = getattr(streamspec, name)
        assert getattr(cls, "_is_protocol", False), f"{name} is not a typing.Protocol"


def test_every_cited_rule_exists() -> None:
    cited = set(RULE_ID.findall(spec_text()))
    unknown = cited - RULES.keys()
    assert not unknown, f"docstrings cite rules missing from the catalogue: {sorted(unknown)}"


def test_the_spec_cites_each_role_family() -> None:
    cited_roles = {RULES[rule_id].role for rule_id in RULE_ID.findall(spec_text())}
    # Stapled streams are reference classes, not a role of their own: their rules are cited by
    # the implementation, not the spec.
    assert cited_roles == set(ROLES) - {"stapled"}


def test_catalogue_is_well_formed() -> None:
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id
        assert rule.role in ROLES, rule
        assert RULE_ID.fullmatch(f"[{rule_id}]"), rule_id
        assert rule.sentence.endswith("."), rule_id
