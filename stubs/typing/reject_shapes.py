"""Classes that do NOT fit the protocols; mypy must reject each marked line with that code.

tests/test_typing.py runs mypy, and pyright in strict mode, on this folder and compares their
errors, line by line, with the markers (a comment "E:" naming mypy's error code and, in
brackets, the member; pyright's rule for that code is looked up): an unmarked error, a marked
line a checker accepts, or a rejection that does not blame the named protocol member fails
the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from typing_extensions import Self

import streamspec as ss


class _Base:
    """Everything a resource with attributes needs, correct; subclasses break one thing."""

    async def aclose(self) -> None: ...
    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None: ...
    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return {}

    def extra(self, attribute: Any, default: Any = None) -> Any:
        return default


class ByteReceiverWithoutMaxBytes(_Base):
    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        return b"x"

    async def receive(self) -> bytes:
        return b"x"


class ByteReceiverOfStr(_Base):
    def __aiter__(self) -> AsyncIterator[str]:
        return self

    async def __anext__(self) -> str:
        return "x"

    async def receive(self, max_bytes: int = 65536) -> str:
        return "x"


class SyncAclose:
    def aclose(self) -> None: ...
    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None: ...


class ByteSenderOfStr(_Base):
    async def send(self, item: str) -> None: ...


class ByteStreamWithoutSendEof(_Base):
    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        return b"x"

    async def receive(self, max_bytes: int = 65536) -> bytes:
        return b"x"

    async def send(self, item: bytes) -> None: ...


class NoExtra:
    async def aclose(self) -> None: ...
    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None: ...
    async def send(self, item: bytes) -> None: ...


class ListenerWithoutTaskGroup(_Base):
    async def serve(self, handler: Callable[[ss.ByteStream], Any]) -> None: ...


class BufferedWithoutFeed(_Base):
    @property
    def buffer(self) -> bytes:
        return b""

    async def receive_exactly(self, nbytes: int) -> bytes:
        return b""

    async def receive_until(self, delimiter: bytes, max_bytes: int) -> bytes:
        return b""


class SyncConnect:
    def connect(self) -> ss.ByteStream:
        raise NotImplementedError


class TextConnect:
    async def connect(self) -> ss.ObjectStream[str]:
        raise NotImplementedError


def cases() -> None:
    _a: ss.ByteReceiveStream = ByteReceiverWithoutMaxBytes()  # E: assignment [receive]
    _b: ss.ByteReceiveStream = ByteReceiverOfStr()  # E: assignment [__anext__]
    _c: ss.AsyncResource = SyncAclose()  # E: assignment [aclose]
    _d: ss.ByteSendStream = ByteSenderOfStr()  # E: assignment [send]
    _e: ss.ByteStream = ByteStreamWithoutSendEof()  # E: assignment [send_eof]
    _f: ss.ByteSendStream = NoExtra()  # E: assignment [extra]
    _g: ss.Listener[ss.ByteStream] = ListenerWithoutTaskGroup()  # E: assignment [serve]
    _h: ss.SupportsBufferedReceive = BufferedWithoutFeed()  # E: assignment [feed_data]
    _i: ss.ByteStreamConnectable = SyncConnect()  # E: assignment [connect]
    _j: ss.AnyByteStreamConnectable = TextConnect()  # E: assignment
