"""Certificates for the TLS checks, made with trustme once per process.

Key generation is the slow part, so the authorities and certificates are cached. The
:class:`ssl.SSLContext` objects are not: every connection gets fresh ones, because an
implementation under test may change a context it is given (a broken one might switch off
hostname checking) and that must not leak into the next check.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from functools import cache
from typing import Any

import trustme

__all__ = ["SERVER_HOSTNAME", "client_context", "server_certificate_der", "server_context"]

#: The host name the server certificates are issued for.
SERVER_HOSTNAME = "localhost"


@cache
def _trusted_ca() -> Any:
    return trustme.CA()


@cache
def _server_cert(*, trusted: bool) -> Any:
    # An untrusted issuer is a second CA the clients are never told about.
    issuer = _trusted_ca() if trusted else trustme.CA()
    return issuer.issue_cert(SERVER_HOSTNAME)


def server_context(*, trusted: bool = True, alpn: Sequence[str] = ()) -> ssl.SSLContext:
    """A fresh server context with a certificate for :data:`SERVER_HOSTNAME`.

    :param trusted: whether the certificate comes from the CA that :func:`client_context`
        trusts.
    :param alpn: the ALPN protocols the server accepts, most preferred first.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _server_cert(trusted=trusted).configure_cert(context)
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context


def client_context(*, alpn: Sequence[str] = ()) -> ssl.SSLContext:
    """A fresh client context that trusts only the checks' CA and verifies host names.

    :param alpn: the ALPN protocols the client offers, most preferred first.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _trusted_ca().configure_trust(context)
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context


def server_certificate_der() -> bytes:
    """The trusted server certificate in DER form, as a verifying client sees it."""
    pem: bytes = _server_cert(trusted=True).cert_chain_pems[0].bytes()
    return ssl.PEM_cert_to_DER_cert(pem.decode("ascii"))
