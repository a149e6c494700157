"""The stream implementations under comparison, found by import path.

streamspec's reference modules are being written while the harness runs, so an
implementation is only a set of ``module:attribute`` paths, looked up when a workload is
built. A module that does not exist yet makes its variants "n/a (not built yet)"; it never
stops the run.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from .harness import Role

__all__ = ["ANYIO", "IMPLEMENTATIONS", "STREAMSPEC", "Implementation", "Unavailable", "load"]


class Unavailable(Exception):
    """An implementation's attribute cannot be loaded; the message is shown in the table."""


@dataclass(frozen=True)
class Implementation:
    """Where one implementation keeps each stream family, as ``module:attribute`` paths."""

    label: str
    role: Role
    #: ``create_memory_object_stream``
    memory: str
    #: ``BufferedByteReceiveStream``
    buffered: str
    #: ``TextReceiveStream``
    text: str
    #: ``TLSStream``
    tls: str


def load(path: str) -> object:
    """Import ``module:attribute`` and return the attribute.

    :raises Unavailable: the module (or the attribute) is not there; the message says
        "n/a (not built yet)" when the missing module belongs to the same package, which is
        how a reference module that has not landed yet looks.
    """
    module_name, _, attribute = path.partition(":")
    package = module_name.partition(".")[0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.partition(".")[0] == package:
            raise Unavailable("n/a (not built yet)") from exc
        raise Unavailable(f"n/a (import failed: {exc})") from exc
    except Exception as exc:  # a half-written module must not stop the run
        raise Unavailable(f"n/a (import failed: {type(exc).__name__}: {exc})") from exc
    try:
        return getattr(module, attribute)
    except AttributeError as exc:
        raise Unavailable(f"n/a (not built yet: no {module_name}.{attribute})") from exc


def _label(name: str, distribution: str) -> str:
    try:
        return f"{name} {version(distribution)}"
    except PackageNotFoundError:
        return name


STREAMSPEC = Implementation(
    label=_label("streamspec", "streamspec"),
    role=Role.SUBJECT,
    memory="streamspec.memory:create_memory_object_stream",
    buffered="streamspec.buffered:BufferedByteReceiveStream",
    text="streamspec.text:TextReceiveStream",
    tls="streamspec.tls:TLSStream",
)
ANYIO = Implementation(
    label=_label("AnyIO", "anyio"),
    role=Role.REFERENCE,
    memory="anyio:create_memory_object_stream",
    buffered="anyio.streams.buffered:BufferedByteReceiveStream",
    text="anyio.streams.text:TextReceiveStream",
    tls="anyio.streams.tls:TLSStream",
)
IMPLEMENTATIONS = (STREAMSPEC, ANYIO)
