"""What every TLS stream of streamspec shares, whoever does the TLS: the settings a ``wrap()``
uses, and the typed attributes of a TLS session.

:class:`streamspec.tls.TLSStream` (our own engine) and
:class:`streamspec.adapters.trio.TrioTLSStream` (Trio's) both build on it, so the two check
their arguments alike, pick the same defaults and describe a session with the same
:class:`~anyio.streams.tls.TLSAttribute` keys. It is public so that a TLS stream of your own
(over another TLS library that exposes an :class:`ssl.SSLObject`) can do the same.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any, NamedTuple

from anyio.streams.tls import TLSAttribute

from ._args import flag, instance, provides, string

__all__ = ["WrapSettings", "encode_hostname", "tls_attributes", "wrap_settings"]


class WrapSettings(NamedTuple):
    """What a ``wrap()`` does, its arguments checked and its defaults filled in."""

    #: Whether this end is the server.
    server_side: bool
    #: The settings the TLS session is made from.
    ssl_context: ssl.SSLContext
    #: The server's name as its certificate carries it (see :func:`encode_hostname`), on a
    #: client that was given one; ``None`` otherwise.
    server_hostname: str | None


def encode_hostname(hostname: str) -> str:
    """Return ``hostname`` as the ASCII name a certificate carries, converting an
    internationalised name with IDNA 2008 and UTS #46 (as AnyIO and browsers do; the ``ssl``
    module's own conversion is IDNA 2003, which maps ``ß`` to ``ss`` and so names another host).

    :raises ValueError: ``hostname`` is not a valid internationalised domain name.
    """
    if hostname.isascii():
        return hostname
    import idna  # AnyIO depends on idna; only non-ASCII names need it.

    try:
        return idna.encode(hostname, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"hostname {hostname!r} is not a valid domain name: {exc}") from exc


def wrap_settings(
    transport_stream: object,
    *,
    server_side: bool | None,
    hostname: str | None,
    ssl_context: ssl.SSLContext | None,
    standard_compatible: bool,
) -> WrapSettings:
    """Check the arguments of a TLS stream's ``wrap()`` and fill in AnyIO's defaults: a server
    when no ``hostname`` is given, and :func:`ssl.create_default_context` for that side's
    purpose. Nothing is sent or read.

    A client must name the server it expects (decision 10 in docs/design.rst): without a
    ``hostname`` the certificate's name could not be checked, and any trusted certificate,
    issued for any host, would be accepted. A caller who really means that passes a context
    whose :attr:`~ssl.SSLContext.check_hostname` is off.

    :raises TypeError: ``transport_stream`` is not a stream (it lacks ``send()``, ``receive()``
        or ``aclose()``), ``server_side`` is not a bool or None, ``hostname`` is not a str or
        None, ``ssl_context`` is not an :class:`ssl.SSLContext`, or ``standard_compatible`` is
        not a bool.
    :raises ValueError: a client has no ``hostname`` while its context checks host names; a
        server was given a ``hostname``; ``hostname`` holds a NUL character or is not a valid
        domain name.
    """
    provides("transport_stream", transport_stream, "send", "receive", "aclose")
    if server_side is not None:
        flag("server_side", server_side)
    if hostname is not None:
        string("hostname", hostname)
    flag("standard_compatible", standard_compatible)
    if ssl_context is not None:
        instance("ssl_context", ssl_context, ssl.SSLContext)
    if server_side is None:
        server_side = not hostname
    if server_side:
        if hostname:
            raise ValueError("hostname is for the client side; a server does not check one")
        if ssl_context is None:
            ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        return WrapSettings(True, ssl_context, None)
    if ssl_context is None:
        ssl_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if not hostname:
        if ssl_context.check_hostname:
            raise ValueError(
                "hostname is required on the client side, to check the server's certificate "
                "against it; to accept a certificate for any host, pass an ssl_context whose "
                "check_hostname is off"
            )
        return WrapSettings(False, ssl_context, None)
    return WrapSettings(False, ssl_context, encode_hostname(hostname))


def tls_attributes(
    ssl_object: ssl.SSLObject, standard_compatible: bool
) -> dict[Any, Callable[[], Any]]:
    """Every :class:`~anyio.streams.tls.TLSAttribute` of a TLS session, read from its
    ``ssl_object`` when asked: the ``extra_attributes`` a TLS stream adds to its transport's.
    """
    return {
        TLSAttribute.alpn_protocol: ssl_object.selected_alpn_protocol,
        TLSAttribute.channel_binding_tls_unique: ssl_object.get_channel_binding,
        TLSAttribute.cipher: ssl_object.cipher,
        TLSAttribute.peer_certificate: lambda: ssl_object.getpeercert(False),
        TLSAttribute.peer_certificate_binary: lambda: ssl_object.getpeercert(True),
        TLSAttribute.server_side: lambda: ssl_object.server_side,
        # Only a server knows which ciphers both sides offered.
        TLSAttribute.shared_ciphers: lambda: (
            ssl_object.shared_ciphers() if ssl_object.server_side else None
        ),
        TLSAttribute.ssl_object: lambda: ssl_object,
        TLSAttribute.standard_compatible: lambda: standard_compatible,
        TLSAttribute.tls_version: ssl_object.version,
    }
