"""The seed's memory object stream example, on streamspec's reference classes."""

from anyio import create_task_group, run

from streamspec import create_memory_object_stream
from streamspec.memory import MemoryObjectReceiveStream


async def process_items(receive_stream: MemoryObjectReceiveStream[str]) -> None:
    async with receive_stream:
        async for item in receive_stream:
            print("received", item)


async def main() -> None:
    send_stream, receive_stream = create_memory_object_stream[str]()
    async with create_task_group() as tg:
        tg.start_soon(process_items, receive_stream)
        async with send_stream:
            for num in range(10):
                await send_stream.send(f"number {num}")


run(main)
