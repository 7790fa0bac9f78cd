"""The console's ASGI app (Starlette): pages, event streams and the game-day control actions.

Routes::

    GET  /                          the runs under --runs (run folders and game days), newest first
    GET  /run/<folder>              the live run view          GET /events/run/<folder>   its event stream
    GET  /gameday                   game-day control           GET /events/gameday        its event stream
    POST /gameday/start|decide|abort|stop|note                 control actions (CSRF token required)
    GET  /scorecard, /scorecard/<target>                       stakeholder scorecards

Access (:class:`Guard`): a non-local bind requires the token on every request (``?token=`` once, then a cookie,
or ``Authorization: Bearer``), else 401; a local bind only answers requests addressed to a local host name.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from aftershock.bundled import EXPERIMENTS
from aftershock.core.errors import AftershockError
from aftershock.gameday.scribe import add_note
from aftershock.serve.gameday import ABORT_BY, DayControl
from aftershock.serve.hub import Channel, Hub
from aftershock.serve.index import list_runs, render_index
from aftershock.serve.pages import csrf_field, page
from aftershock.serve.safety import Redactor, new_token, same
from aftershock.serve.views import day_page, run_page, scorecard_page, scorecards_index

COOKIE = "aftershock_token"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@dataclass
class Console:
    """Everything one console serves; ``token`` None: a local bind (no token needed)."""

    runs: Path
    plans: Path | None = None
    history_db: Path | None = None
    token: str | None = None
    interval_s: float = 0.4
    csrf: str = field(default_factory=new_token)
    redact: Redactor = field(default_factory=Redactor)
    hub: Hub = field(init=False)
    control: DayControl = field(init=False)

    def __post_init__(self) -> None:
        self.runs = self.runs.resolve()
        self.hub = Hub(interval_s=self.interval_s, redact=self.redact)
        self.control = DayControl(self.runs, log=self.runs / ".console" / "gameday.log")

    def run_folder(self, rel: str) -> Path | None:
        """``runs/<rel>`` when it is a run folder inside the runs folder (never outside it)."""
        path = (self.runs / rel).resolve()
        if not path.is_relative_to(self.runs) or not (path / "run.json").is_file():
            return None
        return path

    def plans_offered(self) -> dict[str, Path]:
        """The plans the console may start: the bundled game days and the YAML files in ``--plans``."""
        offered = {f"bundled: {p.stem}": p for p in sorted((EXPERIMENTS / "gamedays").glob("*.yaml"))}
        if self.plans is not None:
            offered.update({p.name: p for p in sorted(self.plans.glob("*.y*ml"))})
        return offered

    def run_channel(self, path: Path) -> Channel:
        from aftershock.serve.runview import run_panels

        live = self.hub.live(path)
        return self.hub.channel(f"run:{path}", lambda: run_panels(live.state()))

    def day_channel(self) -> Channel:
        from aftershock.serve.dayview import day_panels

        return self.hub.channel("gameday", lambda: day_panels(self.control, self.csrf, self.hub.live))


class Guard:
    """Token check (non-local bind) or local host-name check (local bind) in front of every request."""

    def __init__(self, app: ASGIApp, console: Console, bind_host: str) -> None:
        self.app, self.console, self.bind_host = app, console, bind_host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        token = self.console.token
        if token is None:
            host = (request.headers.get("host") or "").rsplit(":", 1)[0]
            if host not in LOCAL_HOSTS | {self.bind_host}:
                refuse = PlainTextResponse("421: this console answers 127.0.0.1 / localhost only", 421)
                await refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        given = request.query_params.get("token") or request.cookies.get(COOKIE)
        auth = request.headers.get("authorization") or ""
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if not same(given, token):
            await PlainTextResponse("401: this console needs its token (printed when it started): open "
                                    "/?token=TOKEN once", 401)(scope, receive, send)
            return
        if request.query_params.get("token") is not None and request.method == "GET":
            response = RedirectResponse(str(request.url.remove_query_params("token")), 303)
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _form(request: Request, console: Console) -> dict[str, str] | None:
    """The urlencoded form of a control action, or None when its CSRF token or origin is wrong."""
    origin = request.headers.get("origin")
    if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
        return None
    body = (await request.body()).decode(errors="replace")
    form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
    return form if same(form.get("csrf"), console.csrf) else None


def build_app(console: Console, *, bind_host: str = "127.0.0.1") -> ASGIApp:  # long: the route table
    async def index(request: Request) -> Response:
        runs = await asyncio.to_thread(list_runs, console.runs)
        return HTMLResponse(page("runs", console.redact(render_index(runs))))

    async def run_view(request: Request) -> Response:
        path = console.run_folder(request.path_params["rel"])
        if path is None:
            return HTMLResponse(page("not found", "<p>no such run folder under the runs folder</p>"), 404)
        panels = await console.run_channel(path).current()
        rel = path.relative_to(console.runs).as_posix()
        return HTMLResponse(run_page(rel, panels))

    async def run_events(request: Request) -> Response:
        path = console.run_folder(request.path_params["rel"])
        if path is None:
            return PlainTextResponse("no such run folder", 404)
        return _stream(console.run_channel(path))

    async def day_view(request: Request) -> Response:
        panels = await console.day_channel().current()
        return HTMLResponse(day_page(panels, console.csrf, sorted(console.plans_offered()), console.control))

    async def day_events(request: Request) -> Response:
        return _stream(console.day_channel())

    async def action(request: Request) -> Response:
        form = await _form(request, console)
        if form is None:
            return PlainTextResponse("403: missing or wrong CSRF token (reload the page)", 403)
        name = request.path_params["name"]
        try:
            message = await _act(console, name, form)
        except (AftershockError, ValueError) as exc:
            return HTMLResponse(page("error", f"<p class='bad' id='error'>{console.redact(str(exc))}</p>"
                                     "<p><a href='/gameday'>back</a></p>"), 400)
        if message:
            return PlainTextResponse(message, 409)
        await console.day_channel().refresh()
        return RedirectResponse("/gameday", 303)

    async def scorecards(request: Request) -> Response:
        body = await asyncio.to_thread(scorecards_index, console.history_db)
        return HTMLResponse(page("scorecards", console.redact(body)))

    async def scorecard(request: Request) -> Response:
        target = request.path_params["target"]
        body = await asyncio.to_thread(scorecard_page, console.history_db, target)
        return HTMLResponse(page(f"scorecard {request.path_params['target']}", console.redact(body)))

    routes = [Route("/", index), Route("/run/{rel:path}", run_view), Route("/events/run/{rel:path}", run_events),
              Route("/gameday", day_view), Route("/events/gameday", day_events),
              Route("/gameday/{name}", action, methods=["POST"]), Route("/scorecard", scorecards),
              Route("/scorecard/{target}", scorecard)]
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await asyncio.to_thread(console.control.shutdown)  # a running step is aborted and rolled back
        await console.hub.close()

    return Guard(Starlette(routes=routes, lifespan=lifespan), console, bind_host)


def _stream(channel: Channel) -> StreamingResponse:
    return StreamingResponse(channel.stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _act(console: Console, name: str, form: dict[str, str]) -> str | None:
    """Do a control action; a message (409) when it does not apply now."""
    control = console.control
    if name == "start":
        plan = console.plans_offered().get(form.get("plan", ""))
        if plan is None:
            raise ValueError(f"unknown plan {form.get('plan')!r}: pick one of the list")
        await asyncio.to_thread(control.start, plan)
        return None
    if name == "decide":
        ok = control.operator is not None and control.operator.answer(form.get("answer", ""))
        return None if ok else "nothing waits for that answer now"
    if name == "abort":
        if control.operator is None or not control.running:
            return "no game-day step is running"
        control.operator.abort(ABORT_BY)
        return None
    if name == "stop":
        if control.operator is None or not control.running:
            return "no game day is running"
        control.operator.stop_day(step_running=control.step_running())
        return None
    if name == "note":
        if control.day is None:
            return "start a game day first: notes are kept in its folder"
        running = [s.index for s in control.day.folder.record.steps if s.status == "running"]
        add_note(control.day.folder.path, form.get("text", ""), step=running[0] if running else 0)
        return None
    return f"unknown action {name!r}"


__all__ = ["COOKIE", "Console", "Guard", "build_app", "csrf_field"]
