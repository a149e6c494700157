"""Example targets, shipped so that the docs' examples run from a plain install.

* :mod:`.socketpair`: a complete custom target, AnyIO's UNIX socket streams over
  :func:`socket.socketpair`, with the rule AnyIO breaks declared as a known divergence;
* :mod:`.broken_tls_hostname`: a TLS stream whose client checks no host name, which the suite
  rejects under TLS-HOSTNAME.

``streamspec check streamspec.conformance.examples.socketpair:target`` runs the suite on one.
Like the built-in targets, these are implementations written for the suite, so they may build
on the reference implementation.
"""

from __future__ import annotations

__all__: list[str] = []
