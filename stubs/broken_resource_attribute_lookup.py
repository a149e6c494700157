"""A stapled byte stream whose extra() returns None for a missing attribute: breaks
[ATTR-LOOKUP].

Callers cannot tell "not provided" from a provided ``None``, and code that relies on
TypedAttributeLookupError to probe for a capability (a socket, TLS) takes every stream for one.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC
from streamspec.stapled import StapledByteStream

__all__ = ["BREAKS", "target"]


@dataclasses.dataclass(eq=False)
class LaxStapledByteStream(StapledByteStream):
    # extra() is final in AnyIO; overriding it anyway is what makes this stub broken.
    def extra(self, attribute: Any, default: Any = None) -> Any:  # type: ignore[misc]
        return super().extra(attribute, default)  # the bug: None stands in for "missing"


target: Target = dataclasses.replace(
    STREAMSPEC, name="broken_resource_attribute_lookup", stapled_byte_stream=LaxStapledByteStream
)
BREAKS: tuple[str, ...] = ("ATTR-LOOKUP",)
