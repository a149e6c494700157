"""The ``streamspec`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .conformance.catalogue import ROLES, RULES


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="streamspec", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("rules", help="list the rule catalogue")
    args = parser.parse_args(argv)
    if args.command == "rules":
        for role, title in ROLES.items():
            print(f"{role}: {title}")
            for rule in RULES.values():
                if rule.role == role:
                    print(f"  {rule.id:28} {rule.sentence}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
