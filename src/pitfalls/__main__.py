"""Command line: ``python -m pitfalls {book,train} ...``."""

from __future__ import annotations

import sys

USAGE = """usage: python -m pitfalls COMMAND [options]

commands:
  book    build the book (--profile full|ci)
  train   train a reconstruction model (see `python -m pitfalls train -h`)
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "book":
        from ._book import main as book_main

        return book_main(rest)
    if command == "train":
        from .train import cli_train

        return cli_train(rest)
    print(f"unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
