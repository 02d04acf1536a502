"""The ``driftvakt`` command: ``main(argv) -> int``. The only place that exits; everything else
raises, and the errors become exit codes here. The parser is in ``parser``, each command's flow
in the module of its job (``lab``, ``baseline``, ``auditing``, ``history``, ``reports``,
``delivery``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from driftvakt.cli.parser import build_parser
from driftvakt.errors import BadInputError, DriftvaktError, LabError
from driftvakt.exitcodes import Exit

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except LabError as exc:
        print(f"driftvakt: lab: {exc}", file=sys.stderr)
        return Exit.LAB
    except BadInputError as exc:
        print(f"driftvakt: {exc}", file=sys.stderr)
        return Exit.BAD_INPUT
    except DriftvaktError as exc:
        print(f"driftvakt: {exc}", file=sys.stderr)
        return Exit.ERRORS
    except KeyboardInterrupt:
        print("driftvakt: interrupted", file=sys.stderr)
        return Exit.INTERRUPTED
