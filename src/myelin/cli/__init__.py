"""The ``myelin`` command (``myelin ...`` or ``python -m myelin ...``).

Subcommands: ``train``, ``evaluate``, ``predict``, ``summary``, ``report``; ``myelin --help`` and
``myelin COMMAND --help`` list the options. Misuse (an unknown option, a missing file, a bad value
or config) prints one line on stderr and exits with status 2, never a traceback; set
``MYELIN_DEBUG=1`` to see the traceback instead. Ctrl-C (or SIGTERM) during training stops after the
current batch, saves the run and exits with status 130 (143 for SIGTERM).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
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
    old_term = _terminate_as_interrupt()
    try:
        return int(_commands()[args.command](args))  # type: ignore[operator]
    except BrokenPipeError:  # the reader went away (`myelin summary ... | head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt as exc:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except (CLIError, ValueError, OSError, FloatingPointError, RecursionError, MemoryError) as exc:
        if os.environ.get("MYELIN_DEBUG"):
            raise
        sys.stderr.write(f"{prog}: error: {_describe(exc)}\n")
        return 2
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


class Terminated(KeyboardInterrupt):
    """SIGTERM outside training: handled as Ctrl-C is (exit status 143). ``fit`` has its own handler that
    stops after the current batch and saves the run, as for Ctrl-C."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def _terminate_as_interrupt() -> object:
    """Install the SIGTERM handler (main thread, SIGTERM not ignored); returns the previous one or ``None``."""
    if not hasattr(signal, "SIGTERM") or threading.current_thread() is not threading.main_thread():
        return None
    old = signal.getsignal(signal.SIGTERM)
    if old is signal.SIG_IGN:
        return None
    signal.signal(signal.SIGTERM, _raise_terminated)
    return old if old is not None else signal.SIG_DFL


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
