"""The shipped socket-pair target, checked on four byte rules from async code."""

from __future__ import annotations

import anyio

from streamspec.conformance import run_suite
from streamspec.conformance.examples.socketpair import target


async def main() -> None:
    rules = ["BYTE-INTACT", "BYTE-EOF", "BYTE-SEND-EOF", "BYTE-CLOSED"]
    results = await run_suite(target, rules=rules)
    for result in results:
        print(f"{result.rule.id:24} {result.backend:8} {result.outcome.value}")


if __name__ == "__main__":
    anyio.run(main)
