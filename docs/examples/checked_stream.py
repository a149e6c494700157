"""Wrap a stream with checked() and see a broken one caught at the call that breaks the rule."""

import anyio
import anyio.abc

from streamspec import StreamContractError, checked


class SaysEmpty(anyio.abc.ByteReceiveStream):
    """A byte stream that signals its end Trio-style, with b"" instead of EndOfStream."""

    def __init__(self) -> None:
        self.chunks = [b"hello", b""]

    async def receive(self, max_bytes: int = 65536) -> bytes:
        return self.chunks.pop(0)

    async def aclose(self) -> None:
        pass


async def main() -> None:
    stream = checked(SaysEmpty())
    print(await stream.receive())
    try:
        await stream.receive()
    except StreamContractError as exc:
        print("broken rule:", exc.rule)


anyio.run(main)
