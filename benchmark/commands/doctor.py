"""``python -m benchmark doctor``: the command line of :mod:`benchmark.runner.doctor`."""

from __future__ import annotations

from benchmark.runner.doctor import report


def configure(parser) -> None:
    """No options."""


def main(args) -> int:
    lines, unused = report()
    print("\n".join(lines))
    return 1 if unused else 0
