"""``myelin playground``: start the playground's local web server (needs the ``playground`` extra:
``pip install ".[playground]"`` in a checkout, or ``pip install "myelin-nn[playground]"`` once published)."""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import sys
from pathlib import Path
from typing import Any

from .._extras import install_hint
from ._errors import CLIError

__all__ = ["add_playground_parser", "cmd_playground"]

INSTALL_HINT = f"the playground needs Starlette and uvicorn: {install_hint('playground')}"


def add_playground_parser(sub: Any, number: Any, positive: Any) -> argparse.ArgumentParser:
    """Add the ``playground`` subcommand to the subparsers ``sub``; returns its parser."""
    g = sub.add_parser("playground", help="a web page to build networks and watch every neuron learn",
                       description="Start the playground: a local web page where you build a network on a small "
                                   "data set (or your CSV) and watch it train, on the real library. Serves "
                                   "localhost only unless --allow-remote is given.")
    g.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    g.add_argument("--port", type=number, default=8765, metavar="PORT", help="default: %(default)s (0: any free port)")
    g.add_argument("--allow-remote", action="store_true",
                   help="allow binding a non-loopback address (anyone who can reach it can use the server)")
    g.add_argument("--open", action="store_true", help="open the page in a web browser")
    g.add_argument("--data", metavar="FILE.csv", help="a CSV table (header row) offered to every page as 'csv'")
    g.add_argument("--target", metavar="NAME", help="the CSV's target column (default: the last column)")
    g.add_argument("--memory-mb", type=positive, default=512.0, metavar="MB",
                   help="memory budget per session (default: %(default)s)")
    g.add_argument("--step-seconds", type=positive, default=0.5, metavar="S",
                   help="the longest a training step may take (default: %(default)s)")
    g.add_argument("--max-sessions", type=int, default=16, metavar="N", help="sessions held at once (default: %(default)s)")
    return g


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cmd_playground(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("starlette") is None or importlib.util.find_spec("uvicorn") is None:
        raise CLIError(INSTALL_HINT)
    local = _is_loopback(args.host)
    if not local and not args.allow_remote:
        raise CLIError(f"--host {args.host} is not a loopback address: anyone who can reach it could use the "
                       f"server; add --allow-remote if that is what you want")
    if not 0 <= args.port <= 65535:
        raise CLIError(f"--port: expected 0..65535, got {args.port}")
    if args.max_sessions < 1:
        raise CLIError(f"--max-sessions: expected an integer >= 1, got {args.max_sessions}")
    table = None
    if args.data is not None:
        from ..playground.table import read_table

        table = read_table(Path(args.data).expanduser(), args.target)
    import uvicorn

    from ..playground.budget import Budget
    from ..playground.server import make_app

    budget = Budget(memory_mb=args.memory_mb, step_seconds=args.step_seconds, max_sessions=args.max_sessions)
    app = make_app(budget, table, allowed_hosts=None if local else ["*"])
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    _announce(server, args)
    server.run()
    return 0


def _announce(server: Any, args: argparse.Namespace) -> None:
    """Print the address (and open it) once uvicorn is listening: the port may be 0 (any free one)."""
    original = server.startup

    async def startup(sockets: Any = None) -> None:
        await original(sockets=sockets)
        port = args.port
        for s in getattr(server, "servers", []):
            for sock in getattr(s, "sockets", []) or []:
                port = sock.getsockname()[1]
        host = "localhost" if _is_loopback(args.host) else args.host
        url = f"http://{host}:{port}/"
        print(f"Myelin playground: {url} (Ctrl-C to stop)", flush=True)
        if args.open:
            import webbrowser

            webbrowser.open(url)

    server.startup = startup
    sys.stdout.flush()
