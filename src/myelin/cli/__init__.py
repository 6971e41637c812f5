"""The ``myelin`` command (``myelin ...`` or ``python -m myelin ...``).

Subcommands: ``train``, ``evaluate``, ``predict``, ``summary``, ``report``; ``myelin --help`` and
``myelin COMMAND --help`` list the options. Misuse (an unknown option, a missing file, a bad value
or config) prints one line on stderr and exits with status 2, never a traceback; set
``MYELIN_DEBUG=1`` to see the traceback instead. Ctrl-C during training stops after the current
batch, saves the run and exits with status 130.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ._errors import CLIError
from ._parser import build_parser, one_line

__all__ = ["CLIError", "build_parser", "main"]


def _commands() -> dict[str, object]:
    from ._playground import cmd_playground
    from ._train import cmd_train
    from ._use import cmd_evaluate, cmd_predict, cmd_report, cmd_summary

    return {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "summary": cmd_summary,
            "report": cmd_report, "playground": cmd_playground}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args, extra = parser.parse_known_args(argv)
    if extra:  # report unknown options against the subcommand they were given to
        getattr(parser, "commands", {}).get(args.command, parser).error(f"unrecognized arguments: {' '.join(extra)}")
    args.argv = argv
    if args.command is None:
        parser.error("missing command: choose one of train, evaluate, predict, summary, report, playground")
    prog = f"myelin {args.command}"
    try:
        return int(_commands()[args.command](args))  # type: ignore[operator]
    except BrokenPipeError:  # the reader went away (`myelin summary ... | head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except (CLIError, ValueError, OSError, FloatingPointError, RecursionError, MemoryError) as exc:
        if os.environ.get("MYELIN_DEBUG"):
            raise
        sys.stderr.write(f"{prog}: error: {_describe(exc)}\n")
        return 2


def _describe(exc: BaseException) -> str:
    """One line for an exception: its message, prefixed by its class for errors that are not the user's."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        text = f"{exc.strerror}: {exc.filename}"
    else:
        text = str(exc)
    if isinstance(exc, (CLIError, FileNotFoundError)) or type(exc).__name__ in (
            "ModelFileError", "ConfigError", "DataFileError", "DatasetNotFoundError", "PNGError"):
        return one_line(text)
    return one_line(f"{type(exc).__name__}: {text}")
