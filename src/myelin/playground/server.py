"""The playground's web server: the static page and a small JSON API over :class:`TrainingSession` (Starlette).

Live updates are request-driven: while the page plays, it asks ``POST /api/sessions/{id}/run`` to
train for a slice of time (``{"seconds": 0.05}``) and gets the new frame back, draws it, and asks
again. Training therefore happens only while a tab is watching, a paused or closed tab costs
nothing, and the update rate adapts to the machine. Each tab creates its own session; the page
closes it when the tab goes away (``navigator.sendBeacon`` on ``pagehide``), and a session not
polled for ``Budget.idle_seconds`` is freed anyway (a crashed tab). At most ``Budget.max_sessions``
sessions are held; beyond that the least recently used one is freed.

API (JSON bodies and answers; errors are ``{"error": "..."}`` with status 400, 404, 409 or 413):

- ``GET  /api/schema``: defaults, choices, the server's budget and any CSV table it was started with.
- ``POST /api/sessions`` ``{"settings": {...}}``: a new session; answers ``{"id", "info", "frame"}``.
- ``POST /api/sessions/{id}/settings`` ``{"settings": {...}}``: rebuild with new settings (same id).
- ``POST /api/sessions/{id}/run`` ``{"steps": N}`` or ``{"seconds": S}``, ``"since"``: train, then a frame.
- ``POST /api/sessions/{id}/reset``: fresh weights; a frame.
- ``GET  /api/sessions/{id}/neuron?layer=L&unit=U``: one neuron's numbers.
- ``GET  /api/sessions/{id}/model`` (a Myelin model file), ``GET .../script`` (a Python script).
- ``POST /api/sessions/{id}/csv?target=NAME&name=FILE``: upload a CSV table (the body) for ``data=csv``.
- ``POST /api/sessions/{id}/close`` or ``DELETE /api/sessions/{id}``: free the session.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .._plural import counted
from .boundary import BoundaryError
from .budget import Budget, BudgetError
from .data import Table
from .session import TrainingSession
from .settings import SettingsError, schema

__all__ = ["LOCAL_HOSTS", "SessionStore", "make_app"]

LOCAL_HOSTS = ["localhost", "127.0.0.1", "[::1]", "::1"]
MAX_JSON_BYTES = 64 * 1024
MAX_RUN_SECONDS = 0.5
MAX_RUN_STEPS = 5000


class HTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class _Entry:
    session: TrainingSession
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_used: float = field(default_factory=time.monotonic)
    table: Table | None = None


class SessionStore:
    """The live sessions by id: created per tab, freed on close, when idle, or least-recently-used first."""

    def __init__(self, budget: Budget, table: Table | None = None) -> None:
        self.budget = budget
        self.table = table  # the server's CSV (``--data``), offered to every session
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def _reap(self) -> None:
        now = time.monotonic()
        for sid in [s for s, e in self._entries.items() if now - e.last_used > self.budget.idle_seconds]:
            del self._entries[sid]

    def create(self, settings: Any) -> tuple[str, _Entry]:
        session = TrainingSession(settings, table=self.table, budget=self.budget)
        entry = _Entry(session, table=self.table)
        sid = secrets.token_urlsafe(12)
        with self._lock:
            self._reap()
            self._entries[sid] = entry
            while len(self._entries) > self.budget.max_sessions:
                self._entries.popitem(last=False)
        return sid, entry

    def get(self, sid: str) -> _Entry:
        with self._lock:
            self._reap()
            entry = self._entries.get(sid)
            if entry is None:
                raise HTTPError(404, "no such session (it was closed or expired after being idle): reload the page")
            entry.last_used = time.monotonic()
            self._entries.move_to_end(sid)
            return entry

    def close(self, sid: str) -> bool:
        with self._lock:
            return self._entries.pop(sid, None) is not None


async def _json(request: Request) -> dict[str, Any]:
    """The request's JSON object, refusing bodies over :data:`MAX_JSON_BYTES` and NaN/Infinity literals."""
    body = await _body(request, MAX_JSON_BYTES)
    if not body:
        return {}

    def no_constants(name: str) -> Any:
        raise HTTPError(400, f"invalid JSON: {name} is not a number JSON allows")

    try:
        data = json.loads(body, parse_constant=no_constants)
    except (ValueError, RecursionError) as exc:
        raise HTTPError(400, f"invalid JSON: {' '.join(str(exc).split())[:120]}") from None
    if not isinstance(data, dict):
        raise HTTPError(400, f"expected a JSON object, received {type(data).__name__}")
    return data


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise HTTPError(413, f"request body larger than {counted(limit, 'byte', spec=',')}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPError(413, f"request body larger than {counted(limit, 'byte', spec=',')}")
        chunks.append(chunk)
    return b"".join(chunks)


def _only(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(str(k)[:40] for k in data if k not in allowed)
    if unknown:
        raise HTTPError(400, f"unknown field(s) {', '.join(map(repr, unknown))}; expected {', '.join(allowed)}")


def _endpoint(fn: Callable[..., Any]) -> Callable[[Request], Any]:
    """Wrap a handler: known errors become ``{"error": ...}`` answers, anything else a 500 without a traceback."""
    async def handler(request: Request) -> Response:
        try:
            result = await fn(request)
        except HTTPError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        except BudgetError as exc:
            return JSONResponse({"error": str(exc)}, status_code=413)
        except (SettingsError, BoundaryError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"},
                                status_code=400)
        except MemoryError:
            return JSONResponse({"error": "out of memory for this request"}, status_code=413)
        except Exception as exc:  # noqa: BLE001 - the server must stay up; say what happened
            return JSONResponse({"error": f"internal error ({type(exc).__name__}); see the server's log"},
                                status_code=500)
        return result if isinstance(result, Response) else JSONResponse(result)

    return handler


def make_app(budget: Budget | None = None, table: Table | None = None, allowed_hosts: list[str] | None = None
             ) -> Starlette:
    """The playground application. ``allowed_hosts``: accepted ``Host`` headers (default: localhost only,
    which also stops DNS-rebinding pages from reaching the API); ``["*"]`` accepts any."""
    store = SessionStore(budget if budget is not None else Budget(), table)
    static = resources.files("myelin.playground") / "static"

    async def index(request: Request) -> Response:
        return FileResponse(str(static / "index.html"), headers={"Cache-Control": "no-store"})

    async def get_schema(request: Request) -> dict[str, Any]:
        info = schema()
        info["budget"] = store.budget.describe()
        info["table"] = None if store.table is None else {"name": store.table.name, "columns": store.table.columns,
                                                          "target": store.table.target_name}
        return info

    async def create(request: Request) -> dict[str, Any]:
        data = await _json(request)
        _only(data, ("settings",))

        def work() -> dict[str, Any]:
            sid, entry = store.create(data.get("settings", {}))
            with entry.lock:
                return {"id": sid, "info": entry.session.describe(), "frame": entry.session.frame()}

        return await run_in_threadpool(work)

    async def settings(request: Request) -> dict[str, Any]:
        entry = store.get(request.path_params["sid"])
        data = await _json(request)
        _only(data, ("settings",))

        def work() -> dict[str, Any]:
            session = TrainingSession(data.get("settings", {}), table=entry.table, budget=store.budget)
            with entry.lock:
                entry.session = session
                return {"id": request.path_params["sid"], "info": session.describe(), "frame": session.frame()}

        return await run_in_threadpool(work)

    async def run(request: Request) -> dict[str, Any]:
        entry = store.get(request.path_params["sid"])
        data = await _json(request)
        _only(data, ("steps", "seconds", "since"))
        steps, seconds, since = data.get("steps"), data.get("seconds"), data.get("since", 0)
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or
                                  not 0 <= steps <= MAX_RUN_STEPS):
            raise HTTPError(400, f"'steps': expected an integer in [0, {MAX_RUN_STEPS}], received {steps!r}")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or
                                    not 0 < seconds <= MAX_RUN_SECONDS):
            raise HTTPError(400, f"'seconds': expected a number in (0, {MAX_RUN_SECONDS}], received {seconds!r}")
        if isinstance(since, bool) or not isinstance(since, int) or since < 0:
            raise HTTPError(400, f"'since': expected an integer >= 0, received {since!r}")

        def work() -> dict[str, Any]:
            with entry.lock:
                s = entry.session
                if steps or seconds:
                    s.run(steps=steps, seconds=MAX_RUN_SECONDS * 4 if seconds is None else seconds)
                return s.frame(since)

        return await run_in_threadpool(work)

    async def reset(request: Request) -> dict[str, Any]:
        entry = store.get(request.path_params["sid"])

        def work() -> dict[str, Any]:
            with entry.lock:
                entry.session.reset()
                return entry.session.frame()

        return await run_in_threadpool(work)

    async def neuron(request: Request) -> dict[str, Any]:
        entry = store.get(request.path_params["sid"])
        q = request.query_params
        _only(dict(q), ("layer", "unit"))
        try:
            layer, unit = int(q.get("layer", "")), int(q.get("unit", ""))
        except ValueError:
            raise HTTPError(400, "expected integer query parameters layer and unit") from None

        def work() -> dict[str, Any]:
            with entry.lock:
                return entry.session.neuron(layer, unit)

        return await run_in_threadpool(work)

    async def model(request: Request) -> Response:
        entry = store.get(request.path_params["sid"])

        def work() -> bytes:
            with entry.lock:
                return entry.session.model_bytes()

        body = await run_in_threadpool(work)
        return Response(body, media_type="application/octet-stream", headers={
            "Content-Disposition": 'attachment; filename="playground_model.safetensors"'})

    async def script(request: Request) -> Response:
        entry = store.get(request.path_params["sid"])
        with entry.lock:
            text = entry.session.script()
        return Response(text, media_type="text/x-python", headers={
            "Content-Disposition": 'attachment; filename="playground_run.py"'})

    async def upload(request: Request) -> dict[str, Any]:
        from .table import parse_table

        entry = store.get(request.path_params["sid"])
        q = request.query_params
        _only(dict(q), ("target", "name"))
        body = await _body(request, int(store.budget.max_upload_mb * 2 ** 20))
        name = q.get("name", "upload.csv")[:100]

        def work() -> dict[str, Any]:
            table = parse_table(body, name, q.get("target") or None)
            with entry.lock:
                entry.table = table
            return {"name": table.name, "columns": table.columns, "target": table.target_name,
                    "rows": len(table.x)}

        return await run_in_threadpool(work)

    async def close(request: Request) -> dict[str, Any]:
        return {"closed": store.close(request.path_params["sid"])}

    routes = [
        Route("/", _endpoint(index)),
        Route("/api/schema", _endpoint(get_schema)),
        Route("/api/sessions", _endpoint(create), methods=["POST"]),
        Route("/api/sessions/{sid}", _endpoint(close), methods=["DELETE"]),
        Route("/api/sessions/{sid}/close", _endpoint(close), methods=["POST"]),
        Route("/api/sessions/{sid}/settings", _endpoint(settings), methods=["POST"]),
        Route("/api/sessions/{sid}/run", _endpoint(run), methods=["POST"]),
        Route("/api/sessions/{sid}/reset", _endpoint(reset), methods=["POST"]),
        Route("/api/sessions/{sid}/neuron", _endpoint(neuron)),
        Route("/api/sessions/{sid}/model", _endpoint(model)),
        Route("/api/sessions/{sid}/script", _endpoint(script)),
        Route("/api/sessions/{sid}/csv", _endpoint(upload), methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(static)), name="static"),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or LOCAL_HOSTS)]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.store = store
    return app
