"""The type variables of the spec, with the reason for each one's variance.

Variance is part of the contract (decision 4 in docs/design.rst), so it is declared once,
here:

* ``T_co`` is covariant. A role that only *produces* items (a receive stream, a listener) may
  stand where a role producing a wider type is expected: a receive stream of ``bool`` serves a
  consumer that wants ``int``.
* ``T_contra`` is contravariant. A role that only *consumes* items (a send stream) may stand
  where one consuming a narrower type is expected: a send stream of ``int`` accepts every
  ``bool`` a producer sends.
* ``T`` is invariant. A bidirectional role both produces and consumes, so neither substitution
  is safe.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
T_contra = TypeVar("T_contra", contravariant=True)
T_Attr = TypeVar("T_Attr")
T_Default = TypeVar("T_Default")
