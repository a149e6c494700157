"""The seed's text stream example, on streamspec's reference classes."""

from anyio import run

from streamspec import create_memory_object_stream
from streamspec.text import TextReceiveStream, TextSendStream


async def main() -> None:
    bytes_send, bytes_receive = create_memory_object_stream[bytes](1)
    async with TextSendStream(bytes_send) as text_send:
        await text_send.send("åäö")
        result = await bytes_receive.receive()
        print(repr(result))

        async with TextReceiveStream(bytes_receive) as text_receive:
            await bytes_send.send(result)
            text = await text_receive.receive()
            print(repr(text))


run(main)
