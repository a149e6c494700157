"""The rule catalogue: every guarantee the conformance suite checks, by stable ID.

This module is pure data and imports nothing heavier than the standard library, so the docs,
the protocol docstrings' cross-check and the CLI can read it without loading the suite.

An ID never changes meaning once published. A rule that is withdrawn keeps its ID retired; a
new guarantee gets a new ID. IDs are ``ROLE-WHAT`` in capitals; the role prefix names the
protocol family the rule belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CALLER_RULES", "ROLES", "RULES", "Rule", "rule"]


@dataclass(frozen=True)
class Rule:
    """One guarantee of the spec."""

    #: Stable identifier, such as ``BYTE-INTACT``.
    id: str
    #: The role (a key of :data:`ROLES`) whose implementations must keep this rule.
    role: str
    #: The guarantee, in one sentence.
    sentence: str


#: Role key -> what the role covers, in the order the report prints them.
ROLES: dict[str, str] = {
    "resource": "closeable resources and typed attributes",
    "byte": "byte streams (receive, send, both)",
    "object": "reliable object streams",
    "unreliable": "unreliable object streams (datagram sockets)",
    "memory": "memory object streams",
    "stapled": "stapled byte and object streams",
    "buffered": "buffered byte streams",
    "text": "text streams",
    "tls": "TLS streams and listeners",
    "listener": "listeners",
}

_RULES = [
    # -- resources and attributes -------------------------------------------------------------
    Rule("RES-ACLOSE-IDEMPOTENT", "resource",
         "aclose() may be called again on a closed resource; it returns at once and raises "
         "nothing."),
    Rule("RES-ACLOSE-CANCELLED", "resource",
         "aclose() called inside a cancelled scope still closes the resource before the "
         "cancellation propagates."),
    Rule("RES-CONTEXT", "resource",
         "'async with resource' yields the resource itself and closes it on exit, "
         "whether the block ends normally or by an exception."),
    Rule("ATTR-LOOKUP", "resource",
         "extra(key) returns the value of extra_attributes[key](); for a key not provided it "
         "raises TypedAttributeLookupError, and extra(key, default) returns default."),
    Rule("ASYNC-CHECKPOINT", "resource",
         "Every async operation is a checkpoint: called inside a cancelled scope it raises the "
         "cancellation even when it could complete at once, and it consumes nothing."),
    # -- byte streams -------------------------------------------------------------------------
    Rule("BYTE-INTACT", "byte",
         "The bytes received are exactly the bytes sent, in order, however the sender splits its "
         "sends and whatever max_bytes the receiver asks for."),
    Rule("BYTE-NO-EMPTY", "byte",
         "receive() never returns an empty bytes object; the end of the stream is EndOfStream."),
    Rule("BYTE-RETURNS-BYTES", "byte",
         "receive() returns bytes objects, never a bytearray or memoryview (mutable, and "
         "possibly a buffer the stream goes on using)."),
    Rule("BYTE-MAX-BYTES", "byte",
         "receive(max_bytes) returns at most max_bytes bytes."),
    Rule("BYTE-MAX-BYTES-INVALID", "byte",
         "receive(max_bytes) with max_bytes < 1 raises ValueError and consumes nothing."),
    Rule("BYTE-EOF", "byte",
         "Once every byte sent before the peer's send_eof() or aclose() has been received, "
         "receive() raises EndOfStream, and again on every later call."),
    Rule("BYTE-SEND-DELIVERS", "byte",
         "Bytes accepted by send() reach the peer without any further call on the sending "
         "stream: a receive() waiting on the other end gets them while the sender stays open."),
    Rule("BYTE-SEND-EOF", "byte",
         "send_eof() lets the peer receive everything sent before it and then EndOfStream, while "
         "the other direction keeps working; a second send_eof() does nothing."),
    Rule("BYTE-SEND-AFTER-EOF", "byte",
         "After send_eof(), send() raises (ClosedResourceError or BrokenResourceError) instead "
         "of accepting data, and the peer receives nothing after the EndOfStream it saw."),
    Rule("BYTE-PEER-CLOSED", "byte",
         "After the peer closes, receive() raises EndOfStream (or BrokenResourceError for a "
         "transport that cannot tell a clean end) once the data already sent is drained."),
    Rule("BYTE-SEND-PEER-CLOSED", "byte",
         "After the peer has closed, send() raises BrokenResourceError before 4 MiB more have "
         "been accepted (a few sends may succeed first, as a TCP send does until the peer's "
         "reset arrives; a stream that goes on accepting is dropping the data unannounced)."),
    Rule("BYTE-CLOSED", "byte",
         "After a stream is closed locally, receive(), send() and send_eof() on it raise "
         "ClosedResourceError."),
    Rule("BYTE-CLOSED-WAKES", "byte",
         "Closing a stream wakes a task blocked in its receive() with ClosedResourceError."),
    Rule("BYTE-RECEIVE-CANCELLED", "byte",
         "A receive() waiting for data raises the cancellation as soon as its cancel scope is "
         "cancelled, and consumes nothing: the bytes sent afterwards go to the next receive()."),
    Rule("BYTE-ITER", "byte",
         "Async iteration yields the received chunks in order and stops at the end of the stream."),
    # -- reliable object streams ----------------------------------------------------------------
    Rule("OBJ-FIFO", "object",
         "Items sent by one sender are received in the order they were sent."),
    Rule("OBJ-EXACTLY-ONCE", "object",
         "With many concurrent senders and receivers, every item whose send() returned is "
         "received exactly once."),
    Rule("OBJ-IDENTITY", "object",
         "The object received is the object sent (the same object, not a copy)."),
    Rule("OBJ-EOF", "object",
         "Once the sending side has closed (or sent EOF) and every item is received, receive() "
         "raises EndOfStream, and again on every later call."),
    Rule("OBJ-CLOSED", "object",
         "After a stream is closed locally, send() and receive() on it raise ClosedResourceError."),
    Rule("OBJ-SEND-EOF", "object",
         "send_eof() lets the peer receive every item sent before it and then EndOfStream, while "
         "items keep flowing the other way; a second send_eof() does nothing."),
    Rule("OBJ-SEND-AFTER-EOF", "object",
         "After send_eof(), send() raises (ClosedResourceError or BrokenResourceError) and its "
         "item is never received: the peer gets EndOfStream after the items sent before it."),
    Rule("OBJ-CLOSE-WAKES", "object",
         "Closing an object stream wakes the tasks blocked in its own receive() or send() with "
         "ClosedResourceError."),
    # Decision 6 in docs/design.rst, for every stream that has clone().
    Rule("OBJ-CLONE", "object",
         "On a stream with clone(), a clone is an independent open handle of the same stream: "
         "closing one handle closes only it, the peer sees the end only "
         "when the last send clone is closed, senders break only when the last receive clone "
         "is closed, and clone() of a closed handle raises ClosedResourceError."),
    Rule("OBJ-RECEIVE-CANCELLED", "object",
         "A receive() whose cancel scope is cancelled either returns an item or takes none, so "
         "no item is lost; one waiting for an item raises the cancellation as soon as the scope "
         "is cancelled."),
    Rule("OBJ-SEND-CANCELLED", "object",
         "A send() whose cancel scope is cancelled either returns, and its item is received, or "
         "raises the cancellation, and its item is never received, so a sender that retries "
         "neither loses nor duplicates it."),
    Rule("OBJ-ITER", "object",
         "Async iteration yields the items in order and stops at the end of the stream."),
    # -- unreliable object streams ----------------------------------------------------------------
    Rule("UNREL-WHOLE", "unreliable",
         "Every item received is an item that was sent, whole and unchanged (never cut, merged, "
         "corrupted or invented), and items sent one at a time over an idle local path do "
         "arrive; their order is not promised."),
    Rule("UNREL-CLOSED", "unreliable",
         "After a stream is closed locally, send() and receive() on it raise "
         "ClosedResourceError."),
    Rule("UNREL-RECEIVE-CANCELLED", "unreliable",
         "A receive() waiting for an item raises the cancellation as soon as its cancel scope "
         "is cancelled, and takes no item: the next item sent goes to the next receive()."),
    # -- memory object streams ----------------------------------------------------------------
    Rule("MEM-BUFFER-INVALID", "memory",
         "create_memory_object_stream() rejects a negative or fractional max_buffer_size with "
         "ValueError and a non-numeric one with TypeError (or ValueError)."),
    Rule("MEM-BUFFER-ZERO", "memory",
         "With max_buffer_size=0, send() waits until a receiver takes the item, and send_nowait() "
         "raises WouldBlock unless a receiver is already waiting."),
    Rule("MEM-BUFFER-N", "memory",
         "With max_buffer_size=N, N items are accepted with no receiver; the next send() waits and "
         "send_nowait() raises WouldBlock, without accepting the item."),
    Rule("MEM-BUFFER-INF", "memory",
         "With max_buffer_size=math.inf, send() and send_nowait() never wait."),
    Rule("MEM-RECEIVE-NOWAIT", "memory",
         "receive_nowait() returns the oldest buffered item, else the item of the oldest waiting "
         "sender, else raises WouldBlock (EndOfStream once every send clone is closed)."),
    Rule("MEM-RECEIVER-FIRST", "memory",
         "A receiver already waiting owns the next item sent: it is handed to that receiver, "
         "oldest waiter first, even with max_buffer_size=0."),
    Rule("MEM-SENDER-FAIR", "memory",
         "When buffer space frees up, the oldest waiting sender's item is the next one accepted."),
    Rule("MEM-CLONE", "memory",
         "clone() of an open end returns a new open end of the same stream; clone() of a closed "
         "end raises ClosedResourceError."),
    Rule("MEM-CLOSE-WAKES", "memory",
         "Closing one handle wakes the tasks blocked on that handle, and only them, with "
         "ClosedResourceError; later operations on it raise ClosedResourceError."),
    Rule("MEM-LAST-SENDER-CLOSED", "memory",
         "When the last send clone is closed, receivers still get every buffered item and then "
         "EndOfStream, blocked receivers included."),
    Rule("MEM-LAST-RECEIVER-CLOSED", "memory",
         "When the last receive clone is closed, every send raises BrokenResourceError, blocked "
         "senders included, and their items are not delivered."),
    Rule("MEM-CANCEL-NO-LOSS", "memory",
         "A send or receive cancelled by a cancel scope either completed (the item was handed "
         "over) or had no effect: no item is lost or duplicated."),
    Rule("MEM-NATIVE-CANCEL-NO-LOSS", "memory",
         "The same holds when an asyncio task blocked in send() or receive() is cancelled with "
         "Task.cancel()."),
    Rule("MEM-STATISTICS", "memory",
         "statistics() reports the buffer use, the buffer size, the open clones of each end and "
         "the waiting tasks of each side as they are at the moment of the call (a task whose "
         "wait was cancelled may count until it resumes)."),
    Rule("MEM-SYNC-CLOSE", "memory",
         "close() and 'with' close an end exactly as aclose() does."),
    Rule("MEM-ITER-END", "memory",
         "Iterating a receive end stops exactly when every send clone is closed and the buffer "
         "is empty."),
    Rule("MEM-MODEL", "memory",
         "Any program of sends, receives, _nowait calls, clones, closes and cancellations has the "
         "outcomes that the reference model predicts."),
    # -- stapled --------------------------------------------------------------------------------
    Rule("STAPLED-DELEGATE", "stapled",
         "A stapled stream's receive() reads from its receive half and send() writes to its send "
         "half (send_nowait() too, where the half has it)."),
    Rule("STAPLED-SEND-EOF", "stapled",
         "send_eof() closes the send half only: the peer sees the end, receiving goes on."),
    Rule("STAPLED-ACLOSE-BOTH", "stapled",
         "aclose() closes both halves, even when closing the first raises; the first error is "
         "then raised."),
    Rule("STAPLED-ATTRIBUTES", "stapled",
         "extra_attributes merges both halves' attributes: every key of either half is "
         "provided, and a key both halves provide gives one of their two values (which one is "
         "the implementation's choice)."),
    # -- buffered -------------------------------------------------------------------------------
    Rule("BUF-RECEIVE", "buffered",
         "receive(max_bytes) returns buffered bytes first, never more than max_bytes."),
    Rule("BUF-EXACTLY", "buffered",
         "receive_exactly(n) returns exactly the next n bytes, however the data was chunked."),
    Rule("BUF-EXACTLY-INCOMPLETE", "buffered",
         "receive_exactly(n) raises IncompleteRead if the stream ends first, and every byte read "
         "stays in the buffer."),
    Rule("BUF-UNTIL", "buffered",
         "receive_until(delimiter, max_bytes) returns the bytes before the first delimiter and "
         "consumes the delimiter, when the whole delimiter lies within the first max_bytes bytes, "
         "however the data was chunked."),
    Rule("BUF-UNTIL-NOT-FOUND", "buffered",
         "receive_until() raises DelimiterNotFound when the delimiter does not end within the "
         "first max_bytes bytes, and every byte read stays in the buffer."),
    Rule("BUF-UNTIL-INCOMPLETE", "buffered",
         "receive_until() raises IncompleteRead if the stream ends before the delimiter, and every "
         "byte read stays in the buffer."),
    Rule("BUF-FEED", "buffered",
         "feed_data() appends to the buffer: fed bytes come after those already buffered and "
         "before any not yet read from the transport."),
    Rule("BUF-ARGS", "buffered",
         "receive_exactly(n<0), receive_until() with an empty delimiter or max_bytes < 1 raise "
         "ValueError and consume nothing."),
    # -- text -----------------------------------------------------------------------------------
    Rule("TEXT-DECODE", "text",
         "The text received does not depend on how the encoded bytes were chunked, for utf-8, "
         "utf-16, utf-32, latin-1 and shift_jis."),
    Rule("TEXT-NO-EMPTY", "text",
         "receive() never returns an empty string; the end of the stream is EndOfStream."),
    Rule("TEXT-ENCODE", "text",
         "The bytes sent for a sequence of send() calls are the encoding of their concatenation."),
    Rule("TEXT-ERRORS", "text",
         "Undecodable or unencodable input gives what the codec gives for the whole input "
         "with the same 'errors' policy (strict, replace, ignore and backslashreplace both "
         "ways, surrogateescape decoding, xmlcharrefreplace encoding), however it is chunked; "
         "where the codec raises, the stream raises UnicodeDecodeError or UnicodeEncodeError."),
    Rule("TEXT-TRUNCATED", "text",
         "A character cut short by the end of the stream is reported according to 'errors' "
         "(UnicodeDecodeError when strict, a replacement character when 'replace'), "
         "never dropped silently."),
    Rule("TEXT-BOM-ONCE", "text",
         "An encoding with a byte-order mark writes it once per stream, not once per send()."),
    Rule("TEXT-ATTRIBUTES", "text",
         "A text stream passes the transport stream's attributes through."),
    # -- TLS ------------------------------------------------------------------------------------
    Rule("TLS-INTACT", "tls",
         "Data crosses a TLS stream intact in both directions, however the transport chunks it."),
    Rule("TLS-HOSTNAME", "tls",
         "A client refuses a server certificate issued for another host name: the handshake "
         "fails and no data flows."),
    Rule("TLS-UNTRUSTED", "tls",
         "A client refuses a server certificate from an untrusted issuer."),
    Rule("TLS-RAGGED-EOF-STRICT", "tls",
         "With standard_compatible=True, a transport that ends without close_notify makes "
         "receive() raise BrokenResourceError."),
    Rule("TLS-RAGGED-EOF-LENIENT", "tls",
         "With standard_compatible=False, a transport that ends without close_notify makes "
         "receive() raise EndOfStream."),
    Rule("TLS-CLOSE-NOTIFY", "tls",
         "aclose() sends close_notify, so the peer sees a clean EndOfStream."),
    Rule("TLS-ACLOSE-QUIET", "tls",
         "With standard_compatible=True, aclose() does not raise when its close_notify cannot "
         "be delivered (the peer's transport is gone, another task is receiving) and raises "
         "only the cancellation in a cancelled scope; the stream is closed all the same, so "
         "its operations then raise ClosedResourceError."),
    Rule("TLS-UNWRAP", "tls",
         "unwrap() ends the TLS session and returns the transport with any bytes already read "
         "past the session's end; plaintext then flows over the transport."),
    Rule("TLS-ALPN", "tls",
         "The ALPN protocol agreed in the handshake is reported by the alpn_protocol attribute "
         "on both sides."),
    Rule("TLS-ATTRIBUTES", "tls",
         "Every TLSAttribute is provided after the handshake, and the transport's attributes "
         "pass through."),
    Rule("TLS-LISTENER-SURVIVES", "tls",
         "A TLSListener keeps serving after a client that sends garbage, one that stalls past "
         "handshake_timeout and one that vanishes mid-handshake."),
    # -- listeners ------------------------------------------------------------------------------
    Rule("LISTEN-SERVE", "listener",
         "serve() hands every accepted connection to the handler, each in a task of its own."),
    Rule("LISTEN-CLOSE", "listener",
         "After aclose(), the listener accepts no more connections: a serve() in progress "
         "ends (returning or raising ClosedResourceError) and no later client reaches its "
         "handler."),
]  # fmt: skip

#: Rule ID -> rule, in catalogue order.
RULES: dict[str, Rule] = {r.id: r for r in _RULES}
assert len(RULES) == len(_RULES), "duplicate rule ID in the catalogue"


#: Rules for the *callers* of streams: what a stream may refuse, not what it must do. The suite
#: has nothing to check on a stream for them; :func:`streamspec.checked` checks them on the
#: code that uses a stream.
CALLER_RULES: dict[str, Rule] = {
    r.id: r
    for r in [
        Rule("BYTE-BUSY", "byte",
             "At most one task at a time receives from a byte stream, and at most one sends "
             "to it (their chunks would interleave unpredictably); a stream may raise "
             "BusyResourceError for a second one."),
    ]
}  # fmt: skip
assert not RULES.keys() & CALLER_RULES.keys(), "a rule ID in both catalogues"


def rule(rule_id: str) -> Rule:
    """Return the rule with this ID, a stream's or a caller's; a ``KeyError`` names an unknown
    one.

    Code that names rules looks them up here at import (``_BUSY = rule("BYTE-BUSY").id``), so
    a misspelt ID fails when the module loads, not when the rule is first broken.
    """
    try:
        return RULES[rule_id] if rule_id in RULES else CALLER_RULES[rule_id]
    except KeyError:
        raise KeyError(f"no rule {rule_id!r} in the catalogue") from None
