"""The built-in targets: ``streamspec`` (the reference implementation) and ``anyio``.

These are the only places where the suite names an implementation; the checks themselves
receive a :class:`~.target.Target` and never import one. AnyIO's known divergences are listed
here as data, each with the reason and where it is discussed.
"""

from __future__ import annotations

from types import SimpleNamespace

import anyio
import anyio.streams.buffered
import anyio.streams.stapled
import anyio.streams.text
import anyio.streams.tls

from .. import buffered, memory, stapled, text, tls
from .target import Divergence, Target

__all__ = ["ANYIO", "ANYIO_DIVERGENCES", "STREAMSPEC"]

STREAMSPEC = Target.from_namespace(
    SimpleNamespace(
        create_memory_object_stream=memory.create_memory_object_stream,
        StapledByteStream=stapled.StapledByteStream,
        StapledObjectStream=stapled.StapledObjectStream,
        MultiListener=stapled.MultiListener,
        BufferedByteReceiveStream=buffered.BufferedByteReceiveStream,
        BufferedByteStream=buffered.BufferedByteStream,
        TextReceiveStream=text.TextReceiveStream,
        TextSendStream=text.TextSendStream,
        TextStream=text.TextStream,
        TLSStream=tls.TLSStream,
        TLSListener=tls.TLSListener,
    ),
    name="streamspec",
)

#: Rules that AnyIO 4.16 breaks, found by running ``streamspec check anyio``.
ANYIO_DIVERGENCES: tuple[Divergence, ...] = ()

ANYIO = Target.from_namespace(
    SimpleNamespace(
        create_memory_object_stream=anyio.create_memory_object_stream,
        StapledByteStream=anyio.streams.stapled.StapledByteStream,
        StapledObjectStream=anyio.streams.stapled.StapledObjectStream,
        MultiListener=anyio.streams.stapled.MultiListener,
        BufferedByteReceiveStream=anyio.streams.buffered.BufferedByteReceiveStream,
        BufferedByteStream=anyio.streams.buffered.BufferedByteStream,
        TextReceiveStream=anyio.streams.text.TextReceiveStream,
        TextSendStream=anyio.streams.text.TextSendStream,
        TextStream=anyio.streams.text.TextStream,
        TLSStream=anyio.streams.tls.TLSStream,
        TLSListener=anyio.streams.tls.TLSListener,
    ),
    name="anyio",
    known_divergences=ANYIO_DIVERGENCES,
)
