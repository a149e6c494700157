"""A TLS stream whose client accepts a certificate for any host name: breaks [TLS-HOSTNAME].

The stub is the docs' shipped example (:mod:`streamspec.conformance.examples.broken_tls_hostname`),
so that the docs' report and the suite's tests judge the same stream.
"""

from __future__ import annotations

from streamspec.conformance.examples.broken_tls_hostname import HostnameBlindTLSStream, target

__all__ = ["BREAKS", "HostnameBlindTLSStream", "target"]

BREAKS: tuple[str, ...] = ("TLS-HOSTNAME",)
