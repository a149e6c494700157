"""The TLS session without I/O (``streamspec._tls_session``): its state table, and a whole
handshake and exchange driven by hand, moving bytes between two sessions' buffers.

No event loop: the session never awaits, which is the point of it.
"""

from __future__ import annotations

import ssl
from typing import Any

import anyio
import pytest
import trustme

from streamspec._tls_session import _TRANSITIONS, State, TLSSession, _core_of, _Event


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def session_pair(ca: trustme.CA) -> tuple[TLSSession, TLSSession]:
    """(client, server) sessions, handshake not begun."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    sessions = []
    for context, server_side in ((client_context, False), (server_context, True)):
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        hostname = None if server_side else "localhost"
        ssl_object = context.wrap_bio(
            incoming, outgoing, server_side=server_side, server_hostname=hostname
        )
        sessions.append(TLSSession(ssl_object, incoming, outgoing, standard_compatible=True))
    return sessions[0], sessions[1]


def state(session: TLSSession) -> State:
    """The session's state, read afresh (mypy would narrow ``session.state`` for good after a
    first ``assert``)."""
    return session.state


def carry(source: TLSSession, target: TLSSession) -> None:
    """What a wire driver does: the ciphertext one session wrote, to the other."""
    target.incoming.write(source.outgoing.read())


def handshake(client: TLSSession, server: TLSSession) -> None:
    done: set[str] = set()
    while len(done) < 2:
        for name, session, peer in (("client", client, server), ("server", server, client)):
            try:
                session.ssl_object.do_handshake()
            except ssl.SSLWantReadError:
                pass
            else:
                if name not in done:
                    session.handshake_done()
                    done.add(name)
            carry(session, peer)


def test_the_table_is_the_whole_state_machine() -> None:
    # Every state can be closed, every state but CLOSED can fail, and only these arrows
    # exist besides: nothing leads back to HANDSHAKING, nothing leaves CLOSED.
    others = {key: target for key, target in _TRANSITIONS.items()}
    for state in State:
        assert others.pop((state, _Event.CLOSED)) is State.CLOSED
        if state is not State.CLOSED:
            assert others.pop((state, _Event.FAILED)) is State.BROKEN
    assert others == {
        (State.HANDSHAKING, _Event.HANDSHAKE_DONE): State.OPEN,
        (State.OPEN, _Event.PEER_ENDED): State.PEER_ENDED,
        (State.OPEN, _Event.WE_ENDED): State.WE_ENDED,
        (State.PEER_ENDED, _Event.WE_ENDED): State.ENDED,
        (State.WE_ENDED, _Event.PEER_ENDED): State.ENDED,
    }


def test_data_and_both_ends_without_io(ca: trustme.CA) -> None:
    client, server = session_pair(ca)
    assert state(client) is State.HANDSHAKING
    handshake(client, server)
    assert state(client) is state(server) is State.OPEN
    with pytest.raises(KeyError):  # an arrow the table does not have is a bug, not a no-op
        client.handshake_done()
    assert server.needs_input()
    with pytest.raises(ssl.SSLWantReadError):
        server.read(100)

    client.ssl_object.write(b"hello")
    carry(client, server)
    assert not server.needs_input()
    assert server.read(3) == b"hel"
    assert server.read(100) == b"lo"

    client.end_sending()  # our close_notify, TLS 1.3: the client keeps receiving
    assert state(client) is State.WE_ENDED
    with pytest.raises(anyio.ClosedResourceError, match="send_eof"):
        client.check_sendable()
    carry(client, server)
    with pytest.raises(anyio.EndOfStream):
        server.read(100)
    assert state(server) is State.PEER_ENDED
    server.check_sendable()  # the server may still answer
    server.ssl_object.write(b"answer")
    server.write_close_notify()
    assert state(server) is State.ENDED
    carry(server, client)
    assert client.read(100) == b"answer"
    with pytest.raises(anyio.EndOfStream):
        client.read(100)
    assert state(client) is State.ENDED


def test_a_failure_is_kept_and_a_close_is_final(ca: trustme.CA) -> None:
    client, server = session_pair(ca)
    handshake(client, server)
    client.ssl_object.write(b"x" * 100)
    record = bytearray(client.outgoing.read())
    record[-1] ^= 1  # a corrupted record
    server.incoming.write(bytes(record))
    with pytest.raises(anyio.BrokenResourceError) as info:
        server.read(100)
    assert isinstance(info.value.__cause__, ssl.SSLError)
    assert state(server) is State.BROKEN
    first = server.failure
    server.fail(RuntimeError("later"))
    assert server.failure is first  # the first failure is the one reported
    server.close()
    server.fail(RuntimeError("after the close"))
    assert state(server) is State.CLOSED
    for operation in (lambda: server.read(1), server.check_sendable, server.check_usable):
        with pytest.raises(anyio.ClosedResourceError):
            operation()


def test_the_hot_paths_call_the_c_object_of_a_plain_ssl_object(ca: trustme.CA) -> None:
    client, server = session_pair(ca)
    assert type(client.ssl_core) is not ssl.SSLObject  # the C object, one call level less
    handshake(client, server)
    client.ssl_core.write(b"through the core")
    carry(client, server)
    assert server.read(100) == b"through the core"


class _CountingSSLObject(ssl.SSLObject):
    """A context's sslobject_class that overrides read(): its override must run."""

    reads = 0

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        type(self).reads += 1
        return super().read(*args, **kwargs)


def test_a_subclass_of_ssl_object_keeps_its_overrides(ca: trustme.CA) -> None:
    client, _ = session_pair(ca)
    _CountingSSLObject.reads = 0
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    context.sslobject_class = _CountingSSLObject
    server = TLSSession(
        context.wrap_bio(incoming, outgoing, server_side=True),
        incoming,
        outgoing,
        standard_compatible=True,
    )
    assert server.ssl_core is server.ssl_object
    handshake(client, server)
    client.ssl_object.write(b"counted")
    carry(client, server)
    assert server.read(100) == b"counted"
    assert _CountingSSLObject.reads >= 1


def test_an_ssl_object_without_its_c_object_is_used_as_it_is(
    ca: trustme.CA, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Python whose SSLObject keeps no ``_sslobj`` gets the public methods, and one
    FastPathWarning says so."""
    from streamspec._parking import _base as parking_base

    monkeypatch.setattr(parking_base, "_reported", set())
    client, _ = session_pair(ca)
    monkeypatch.delattr(client.ssl_object, "_sslobj")
    with pytest.warns(parking_base.FastPathWarning, match="private state of ssl"):
        assert _core_of(client.ssl_object) is client.ssl_object
