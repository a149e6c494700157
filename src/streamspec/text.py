"""Text streams: ``str`` over any bytes-oriented stream, decoded and encoded incrementally.

Both directions keep one incremental codec for the life of the stream (decision 9 in
docs/design.rst): a character split across chunks is decoded once, and a stream-level prefix
such as a byte-order mark is written once. Whatever the codec holds back is settled at the end: the
decoder reports a truncated character when the transport ends, and the encoder writes its
closing bytes (the return to the initial shift state of ``iso2022_jp``, say) before the
transport is closed or sent EOF.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel

from ._args import connectable as _check_connectable
from ._args import provides, string
from .protocols import (
    AnyByteReceiveStream,
    AnyByteSendStream,
    AnyByteStream,
    AnyByteStreamConnectable,
)

__all__ = ["TextConnectable", "TextReceiveStream", "TextSendStream", "TextStream"]


class _UnknownCodec(LookupError, ValueError):
    """An encoding or error handler that :mod:`codecs` does not know: a :exc:`LookupError`, as
    the codec machinery (and AnyIO) raise, and a :exc:`ValueError`, as the package raises for
    every bad argument value."""


def _check_codec(encoding: str, errors: str) -> None:
    """Fail now, at construction, on a name that would only fail later, mid-stream.

    The codec machinery looks an encoding up when asked for a coder, but an error handler only
    when the first bad byte arrives; by then the chunk is gone and the stream half used.

    :raises TypeError: ``encoding`` or ``errors`` is not a string.
    :raises ValueError: ``encoding`` or ``errors`` holds a NUL character.
    :raises LookupError: ``encoding`` is unknown or not a text encoding, or ``errors`` names
        no registered error handler (an error that is also a ValueError).
    """
    string("encoding", encoding)
    string("errors", errors)
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise _UnknownCodec(f"encoding={encoding!r} is not a known codec") from None
    # The stdlib marks bytes-to-bytes and str-to-str codecs ("hex", "zlib", "rot13") as not
    # text encodings; io.TextIOWrapper refuses them the same way.
    if not getattr(info, "_is_text_encoding", True):
        raise _UnknownCodec(f"encoding={encoding!r} is not a text encoding")
    try:
        codecs.lookup_error(errors)
    except LookupError:
        raise _UnknownCodec(f"errors={errors!r} is not a registered error handler") from None


class TextReceiveStream(anyio.abc.ObjectReceiveStream[str]):
    """Receives text: decodes the chunks of a bytes-oriented stream as they arrive.

    See :data:`streamspec.StrReceiveStream`. Beyond that contract:

    * ``receive()`` returns what the chunks received so far complete, and waits for more
      rather than return ``""``; the text does not depend on how the bytes were chunked.
      [TEXT-DECODE] [TEXT-NO-EMPTY]
    * When the transport ends in the middle of a character, that is reported according to
      ``errors``: :exc:`UnicodeDecodeError` with ``"strict"``, ``"\\ufffd"`` with
      ``"replace"``, nothing with ``"ignore"`` (which asks for exactly that); then
      :exc:`~anyio.EndOfStream`. [TEXT-TRUNCATED] [TEXT-ERRORS]
    * With ``"strict"``, a :exc:`UnicodeDecodeError` carries in its ``object`` every byte
      that was not returned as text (those held back from earlier chunks included), and the
      decoder then starts afresh with the next chunk.
    * The transport's attributes pass through. [TEXT-ATTRIBUTES]

    :param transport_stream: a byte stream, or an object stream of bytes.
    :param encoding: a text encoding known to :mod:`codecs`.
    :param errors: a registered error handler, such as ``"strict"``, ``"replace"`` or
        ``"ignore"``.
    :raises LookupError: ``encoding`` is unknown or not a text encoding (such as ``"hex"``),
        or ``errors`` names no registered handler: checked here, because the codec machinery
        would otherwise notice a bad handler only at the first undecodable byte. The error is
        also a :exc:`ValueError`, as every bad argument value of the package.
    :raises TypeError: ``transport_stream`` has no ``receive()`` or ``aclose()``; or
        ``encoding`` or ``errors`` is not a string.
    """

    def __init__(
        self,
        transport_stream: AnyByteReceiveStream,
        encoding: str = "utf-8",
        errors: str = "strict",
    ) -> None:
        provides("transport_stream", transport_stream, "receive", "aclose")
        _check_codec(encoding, errors)
        #: The wrapped stream.
        self.transport_stream = transport_stream
        self._decoder = codecs.getincrementaldecoder(encoding)(errors)

    async def receive(self) -> str:
        """Return the next piece of text, as the class describes.

        :raises UnicodeDecodeError: with ``errors="strict"``, the bytes are not valid in the
            encoding, or the stream ended in the middle of a character. [TEXT-ERRORS]
            [TEXT-TRUNCATED]
        """
        decoder = self._decoder
        try:
            while True:
                try:
                    chunk = await self.transport_stream.receive()
                except anyio.EndOfStream:
                    if text := decoder.decode(b"", True):
                        return text
                    raise
                if text := decoder.decode(chunk):
                    return text
        except UnicodeDecodeError:
            # The error holds every byte not yet decoded; what the decoder still holds is
            # stale now, and would corrupt the text that follows.
            decoder.reset()
            raise

    async def aclose(self) -> None:
        """Close the transport."""
        await self.transport_stream.aclose()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        """The transport's attributes. [TEXT-ATTRIBUTES]"""
        return self.transport_stream.extra_attributes


class TextSendStream(anyio.abc.ObjectSendStream[str]):
    """Sends text: encodes each string and sends the bytes on a bytes-oriented stream.

    See :data:`streamspec.StrSendStream`. Beyond that contract:

    * The bytes sent for several ``send()`` calls are the encoding of their concatenation:
      a byte-order mark (``utf-16``, ``utf-32``, ``utf-8-sig``) is written once, before the
      first text [TEXT-ENCODE] [TEXT-BOM-ONCE], and a stateful encoding's closing bytes are
      written when the stream is closed.
    * A ``send()`` that raises (cancelled, or the transport failed) leaves the encoder as it
      was, so the next ``send()`` still writes the byte-order mark or shift sequence that the
      failed one would have written. Over an object stream, which delivers an item whole or
      not at all, nothing is lost or repeated; over a byte stream a failed send may have sent
      part of its bytes, and such a stream should be treated as broken.
    * A ``send()`` whose text encodes to no bytes (``""``, say) sends nothing on the
      transport, so the peer never sees an empty chunk; it is still a checkpoint.
    * The transport's attributes pass through. [TEXT-ATTRIBUTES]

    :param transport_stream: a byte stream, or an object stream of bytes.
    :param encoding: a text encoding known to :mod:`codecs`.
    :param errors: a registered error handler, such as ``"strict"``, ``"replace"`` or
        ``"xmlcharrefreplace"``.
    :raises LookupError: as for :class:`TextReceiveStream`.
    :raises TypeError: ``transport_stream`` has no ``send()`` or ``aclose()``; or ``encoding``
        or ``errors`` is not a string.
    """

    def __init__(
        self, transport_stream: AnyByteSendStream, encoding: str = "utf-8", errors: str = "strict"
    ) -> None:
        provides("transport_stream", transport_stream, "send", "aclose")
        _check_codec(encoding, errors)
        #: The wrapped stream.
        self.transport_stream = transport_stream
        #: The error handler's name (read-only in effect: the encoder took it at construction).
        self.errors = errors
        self._encoder = codecs.getincrementalencoder(encoding)(errors)
        self._initial_state = self._encoder.getstate()

    async def send(self, item: str) -> None:
        """Encode ``item`` and send the bytes, as the class describes.

        :raises UnicodeEncodeError: with ``errors="strict"``, ``item`` cannot be encoded;
            nothing was sent. [TEXT-ERRORS]
        :raises TypeError: ``item`` is not a ``str``; nothing was sent.
        """
        if not isinstance(item, str):
            raise TypeError(f"item must be a str, not {type(item).__name__}")
        await self._send_encoded(item)

    async def aclose(self) -> None:
        """Write the encoder's closing bytes, if it holds any, then close the transport.

        Writing them may wait for the peer, like any send. If the transport refuses them
        (closed or broken) it is closed all the same and nothing is raised; under a cancelled
        scope it is closed before the cancellation propagates. [RES-ACLOSE-CANCELLED]
        """
        try:
            await self._flush()
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass  # nobody is left to read the closing bytes
        finally:
            await self.transport_stream.aclose()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        """The transport's attributes. [TEXT-ATTRIBUTES]"""
        return self.transport_stream.extra_attributes

    async def _flush(self) -> None:
        """Send what a stateful encoder holds back until the end of the text, if anything.

        An encoder still in its initial state holds nothing back; asking it to finish anyway
        would make a ``utf-16`` encoder that never sent anything emit a lone byte-order mark.
        """
        if self._encoder.getstate() != self._initial_state:
            await self._send_encoded("", final=True)

    async def _send_encoded(self, text: str, final: bool = False) -> None:
        """Encode ``text`` and send the bytes; if that raises, restore the encoder's state, so
        that a byte-order mark or shift sequence it consumed is written by the next send."""
        state = self._encoder.getstate()
        try:
            encoded = self._encoder.encode(text, final)
            if encoded:
                await self.transport_stream.send(encoded)
            elif not final:  # a send() is a checkpoint even when there is nothing to send
                await anyio.lowlevel.checkpoint()
        except BaseException:
            self._encoder.setstate(state)
            raise


class TextStream(anyio.abc.ObjectStream[str]):
    """Text in both directions over one bidirectional bytes-oriented stream.

    Receiving behaves as :class:`TextReceiveStream` and sending as :class:`TextSendStream`,
    each with its own codec state. See :data:`streamspec.StrStream`.

    :param transport_stream: a byte stream, or an object stream of bytes, that can send EOF.
    :param encoding: a text encoding known to :mod:`codecs`, used both ways.
    :param errors: a registered error handler, used both ways.
    :raises LookupError: as for :class:`TextReceiveStream`.
    :raises TypeError: ``transport_stream`` lacks one of ``receive()``, ``send()``,
        ``send_eof()`` and ``aclose()``; or ``encoding`` or ``errors`` is not a string.
    """

    def __init__(
        self, transport_stream: AnyByteStream, encoding: str = "utf-8", errors: str = "strict"
    ) -> None:
        provides("transport_stream", transport_stream, "receive", "send", "send_eof", "aclose")
        #: The wrapped stream.
        self.transport_stream = transport_stream
        self._receiver = TextReceiveStream(transport_stream, encoding, errors)
        self._sender = TextSendStream(transport_stream, encoding, errors)

    async def receive(self) -> str:
        """Receive text, as :meth:`TextReceiveStream.receive` does."""
        return await self._receiver.receive()

    async def send(self, item: str) -> None:
        """Send text, as :meth:`TextSendStream.send` does."""
        await self._sender.send(item)

    async def send_eof(self) -> None:
        """Write the encoder's closing bytes, if it holds any, then send EOF on the transport;
        receiving goes on."""
        await self._sender._flush()
        await self.transport_stream.send_eof()

    async def aclose(self) -> None:
        """Close as :meth:`TextSendStream.aclose` does: the encoder's closing bytes, then the
        transport."""
        await self._sender.aclose()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        """The transport's attributes. [TEXT-ATTRIBUTES]"""
        return self.transport_stream.extra_attributes


class TextConnectable(anyio.abc.ObjectStreamConnectable[str]):
    """Makes every connection of another connectable a UTF-8 :class:`TextStream`, as
    :class:`streamspec.ObjectStreamConnectable` describes.

    :param connectable: the connectable to wrap; it may make byte streams or object streams
        of bytes.
    :raises TypeError: ``connectable`` has no ``connect()`` method.
    """

    def __init__(self, connectable: AnyByteStreamConnectable) -> None:
        _check_connectable("connectable", connectable)
        #: The wrapped connectable.
        self.connectable = connectable

    async def connect(self) -> TextStream:
        """Connect with the wrapped connectable and return the stream as text."""
        return TextStream(await self.connectable.connect())
