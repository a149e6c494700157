"""Stapled streams and the multi-listener: several resources presented as one.

A stapled stream joins a send half and a receive half into one bidirectional stream; a
:class:`MultiListener` serves several listeners as one. Every method is a delegation to the
parts; what these classes add is the bookkeeping of *closing* several resources together:
all of them are closed even when closing one fails (:func:`aclose_all`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import anyio
import anyio.abc
import anyio.streams.stapled

from ._args import count, provides, serve_arguments
from ._serving import contained, serve_listener
from .protocols import (
    AsyncResource,
    ByteReceiveStream,
    ByteSendStream,
    Listener,
    ObjectReceiveStream,
    ObjectSendStream,
    TypedAttributeProvider,
)

__all__ = ["MultiListener", "StapledByteStream", "StapledObjectStream", "aclose_all"]

_logger = logging.getLogger(__name__)

# Invariant: a stapled object stream both sends and receives T_Item.
T_Item = TypeVar("T_Item")
# Invariant for simplicity of the dataclass field; Listener itself is covariant in it.
T_Stream = TypeVar("T_Stream")


async def aclose_all(resources: Iterable[AsyncResource]) -> None:
    """Close every resource in order, even when closing one of them raises.

    Each ``aclose()`` is awaited whatever happened to the ones before it, so a failing or
    cancelled close of the first resource never leaks the others. Afterwards the first error
    is raised, with one exception: if any close raised the backend's cancellation exception,
    that cancellation is raised instead, because swallowing it would let a cancelled task
    carry on (an asyncio ``Task.cancel()`` is delivered only once). Later errors are dropped.

    Under a cancelled scope each resource still closes itself before raising the cancellation,
    as :class:`~streamspec.AsyncResource` requires [RES-ACLOSE-CANCELLED]; nothing here shields
    the closes, so a close that would block (a TLS ``close_notify`` to a stuck peer) still
    obeys the caller's cancellation.

    :raises TypeError: ``resources`` is not iterable, or one of them has no ``aclose()``;
        nothing was closed.
    """
    try:
        resources = list(resources)  # all checked before the first is closed
    except TypeError:
        raise TypeError(
            f"resources must be an iterable of resources, not {type(resources).__name__}"
        ) from None
    for index, resource in enumerate(resources):
        provides(f"resources[{index}]", resource, "aclose", what="a resource")
    errors: list[BaseException] = []
    for resource in resources:
        try:
            await resource.aclose()
        except BaseException as exc:  # re-raised below, once the others are closed
            errors.append(exc)
    if errors:
        cancelled = anyio.get_cancelled_exc_class()
        try:
            raise next((e for e in errors if isinstance(e, cancelled)), errors[0])
        finally:
            # The list would keep each exception, its traceback and this frame in a cycle.
            errors.clear()


class _Half(AsyncResource, TypedAttributeProvider, Protocol):
    """What a stapled stream needs of either half besides its own direction."""


class _Stapled:
    """What both stapled streams do alike with their two halves: end the sending one, close
    both, merge their attributes. The dataclasses below declare the halves' types."""

    send_stream: _Half
    receive_stream: _Half
    # Not a dataclass field (no annotation in a dataclass), so the fields stay AnyIO's.
    _closed = False

    async def send_eof(self) -> None:
        """Close the send half only: the peer sees the end, and receiving goes on.
        [STAPLED-SEND-EOF]

        :raises ~anyio.ClosedResourceError: this stream was closed with :meth:`aclose`
            [BYTE-CLOSED] (closing a half again would succeed silently, hiding the misuse).
        """
        if self._closed:
            raise anyio.ClosedResourceError
        await self.send_stream.aclose()

    async def aclose(self) -> None:
        """Close the send half, then the receive half, even when closing the first raises;
        then raise as :func:`aclose_all` describes. [STAPLED-ACLOSE-BOTH]"""
        self._closed = True
        await aclose_all((self.send_stream, self.receive_stream))

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        """Both halves' attributes; where both provide a key, the receive half's wins.
        [STAPLED-ATTRIBUTES]"""
        return {**self.send_stream.extra_attributes, **self.receive_stream.extra_attributes}


def _check_halves(send_stream: object, receive_stream: object) -> None:
    provides("send_stream", send_stream, "send", "aclose")
    provides("receive_stream", receive_stream, "receive", "aclose")


@dataclass(eq=False)
class StapledByteStream(_Stapled, anyio.abc.ByteStream):
    """One bidirectional byte stream made of a send half and a receive half.

    ``receive()`` reads from ``receive_stream`` and ``send()`` writes to ``send_stream``
    [STAPLED-DELEGATE]; each behaves exactly as the half it delegates to, checkpoints and
    exceptions included. See :class:`streamspec.ByteStream` for the contract.

    :param send_stream: the half that sends.
    :param receive_stream: the half that receives.
    :raises TypeError: ``send_stream`` has no ``send()`` or ``aclose()``, or
        ``receive_stream`` no ``receive()`` or ``aclose()``.
    """

    send_stream: ByteSendStream
    receive_stream: ByteReceiveStream

    def __post_init__(self) -> None:
        _check_halves(self.send_stream, self.receive_stream)

    async def receive(self, max_bytes: int = 65536) -> bytes:
        """Receive from the receive half.

        :raises ValueError: ``max_bytes`` is less than 1; the receive half is not called.
            [BYTE-MAX-BYTES-INVALID]
        :raises TypeError: ``max_bytes`` is not an integer; the receive half is not called.
        """
        if type(max_bytes) is not int or max_bytes < 1:
            max_bytes = count("max_bytes", max_bytes, 1)
        return await self.receive_stream.receive(max_bytes)

    async def send(self, item: bytes) -> None:
        """Send ``item`` on the send half."""
        await self.send_stream.send(item)


@dataclass(eq=False)
class StapledObjectStream(_Stapled, anyio.abc.ObjectStream[T_Item], Generic[T_Item]):
    """One bidirectional object stream made of a send half and a receive half.

    ``receive()`` reads from ``receive_stream``; ``send()`` and ``send_nowait()`` write to
    ``send_stream`` [STAPLED-DELEGATE]. See :class:`streamspec.ObjectStream` for the contract.

    :param send_stream: the half that sends.
    :param receive_stream: the half that receives.
    :raises TypeError: as for :class:`StapledByteStream`.
    """

    send_stream: ObjectSendStream[T_Item]
    receive_stream: ObjectReceiveStream[T_Item]

    def __post_init__(self) -> None:
        _check_halves(self.send_stream, self.receive_stream)

    async def receive(self) -> T_Item:
        """Receive from the receive half."""
        return await self.receive_stream.receive()

    async def send(self, item: T_Item) -> None:
        """Send ``item`` on the send half."""
        await self.send_stream.send(item)

    def send_nowait(self, item: T_Item) -> None:
        """Send ``item`` with the send half's ``send_nowait()``, as
        :class:`streamspec.SupportsSendNowait` describes.

        :raises NotImplementedError: the send half has no ``send_nowait()`` (the same exception
            as AnyIO's, so code written for AnyIO keeps working); nothing was sent.
        """
        # An optional capability of the half, looked up per call: a stapled stream does not
        # promise more than its send half offers.
        send_nowait: Callable[[T_Item], None] | None = getattr(
            self.send_stream, "send_nowait", None
        )
        if send_nowait is None:
            raise NotImplementedError(
                f"the send half ({type(self.send_stream).__qualname__}) has no send_nowait()"
            )
        send_nowait(item)


@dataclass(eq=False)
class MultiListener(anyio.abc.Listener[T_Stream], Generic[T_Stream]):
    """Several listeners served as one, such as an IPv4 and an IPv6 socket on the same port.

    A :class:`MultiListener` among ``listeners`` (ours or AnyIO's) is flattened: its listeners
    move into the new one and it is left empty, so that each listener has exactly one owner
    that closes it.

    :param listeners: the listeners to serve; this object owns them from now on.
    :raises TypeError: ``listeners`` is not a sequence (a ``str`` is refused too), or one of
        them has no ``serve()`` or ``aclose()``; no listener was taken over.
    """

    listeners: Sequence[Listener[T_Stream]]

    def __post_init__(self) -> None:
        # Not a dataclass field, so that the fields (and the constructor) are AnyIO's.
        self._closed = False
        listeners: object = self.listeners  # checked: callers need not type-check theirs
        if not isinstance(listeners, Sequence) or isinstance(listeners, (str, bytes)):
            raise TypeError(f"listeners must be a sequence, not {type(listeners).__name__}")
        # All checked before any MultiListener among them is emptied.
        for index, listener in enumerate(listeners):
            provides(f"listeners[{index}]", listener, "serve", "aclose", what="a listener")
        flat: list[Listener[T_Stream]] = []
        for listener in listeners:
            if isinstance(listener, (MultiListener, anyio.streams.stapled.MultiListener)):
                flat.extend(listener.listeners)
                listener.listeners = []
            else:
                flat.append(listener)
        self.listeners = flat

    async def serve(
        self, handler: Callable[[T_Stream], Any], task_group: anyio.abc.TaskGroup | None = None
    ) -> None:
        """Serve every listener at once, each calling ``handler`` for its connections, until
        all of them stop. [LISTEN-SERVE]

        ``task_group`` is passed on to each listener's ``serve()``. The listeners run in a task
        group of this call, so an error from one stops the others and is raised as AnyIO
        raises task-group errors (in an :exc:`ExceptionGroup`).

        A server outlives its clients (decision 10 in docs/design.rst), as with
        :class:`~streamspec.tls.TLSListener`: a failure that a client causes in its own
        connection (it resets or vanishes) and that reaches the end of ``handler`` closes that
        connection and is logged at ``INFO`` on the ``streamspec.stapled`` logger; anything
        else ``handler`` raises propagates. AnyIO's socket listeners (and the listeners of
        AnyIO's ``MultiListener``) are served by a loop that rides out running out of file
        descriptors (EMFILE and friends, logged once per burst); another listener's
        ``serve()`` is its own.

        :raises ~anyio.ClosedResourceError: this listener was closed before the call.
        :raises TypeError: ``handler`` is not callable, or ``task_group`` is not a task group.
        """
        serve_arguments(handler, task_group)
        if self._closed:
            raise anyio.ClosedResourceError
        task = contained(handler, _logger)
        async with anyio.create_task_group() as serving:
            for listener in self.listeners:
                serving.start_soon(serve_listener, listener, task, task_group, _logger)

    async def aclose(self) -> None:
        """Close every listener, even when closing one raises; then raise as
        :func:`aclose_all` describes. Connections already handed to a handler stay open.
        [LISTEN-CLOSE]"""
        self._closed = True
        await aclose_all(self.listeners)

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        """Every listener's attributes; where several provide a key, the last one's wins."""
        merged: dict[Any, Callable[[], Any]] = {}
        for listener in self.listeners:
            merged.update(listener.extra_attributes)
        return merged
