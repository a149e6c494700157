"""streamspec: the typed contract for async streams in the AnyIO world.

The public face re-exports the protocols (the spec), :func:`create_memory_object_stream` and the
runtime validator :func:`checked`. Reference classes are imported from their modules, such as
:class:`streamspec.tls.TLSStream`.
"""

from ._checked import StreamContractError, checked
from .memory import create_memory_object_stream
from .protocols import *  # noqa: F403  (the protocols' __all__ is the list below)
from .protocols import __all__ as _protocol_names

__version__ = "0.1.0"

__all__ = [*_protocol_names, "StreamContractError", "checked", "create_memory_object_stream"]
