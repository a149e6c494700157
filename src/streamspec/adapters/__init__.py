"""Adapters between streamspec's stream roles and other stream shapes.

One module per foreign shape, each importing only what it adapts, so that importing this
package needs neither Trio nor asyncio's streams:

* :mod:`streamspec.adapters.trio`: Trio's ``trio.abc`` streams and memory channels to and
  from byte and object streams (Trio backend only);
* :mod:`streamspec.adapters.asyncio`: a ``StreamReader``/``StreamWriter`` pair to and from a
  byte stream (asyncio backend only).

Foreign exceptions are translated at the edge, each module with one small mapping helper, so
code on our side sees only AnyIO's exceptions (decision 2 in docs/design.rst) and code on the
other side only its own.
"""

__all__: list[str] = []
