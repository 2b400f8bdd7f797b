"""Cost per request with no check due, beside a bare app and a minimal middleware.

The minimal middleware is the floor for any middleware that rate-limits with a
clock: it reads ``time.monotonic()``, compares, and calls the app.
"""

from __future__ import annotations

import io
import time

import webob.dec

from reloadmw import ReloadMiddleware
from tests.benchmarks.timing import Timing, interleaved

BODY = [b"ok"]
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", "2")]


def app(environ, start_response):
    start_response("200 OK", HEADERS)
    return BODY


class MinimalMiddleware:
    def __init__(self, app, interval=1.0):
        self.app = app
        self.deadline = time.monotonic() + 3600

    def __call__(self, environ, start_response):
        if time.monotonic() < self.deadline:
            return self.app(environ, start_response)
        return self.app(environ, start_response)


@webob.dec.wsgify
def wsgify_passthrough(request):
    return request.get_response(app)


def start_response(status, headers, exc_info=None):
    return None


def run(number: int = 200_000, rounds: int = 15) -> dict[str, Timing]:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "gunicorn/23.0.0",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
    }
    reload = ReloadMiddleware(app, interval=3600, hook=lambda changed: None)
    reload(environ, start_response)  # the first request prepares the hook
    minimal = MinimalMiddleware(app)
    contenders = {
        "bare app": lambda: app(environ, start_response),
        "minimal middleware (monotonic, compare, call)": lambda: minimal(environ, start_response),
        "ReloadMiddleware, no check due": lambda: reload(environ, start_response),
    }
    timings = interleaved(contenders, number, rounds)
    timings.update(
        interleaved(
            {"webob wsgify pass-through": lambda: wsgify_passthrough(environ, start_response)},
            number // 20,
            rounds,
        )
    )
    return timings


def report(timings: dict[str, Timing]) -> list[str]:
    bare = timings["bare app"]
    minimal = timings["minimal middleware (monotonic, compare, call)"]
    reload = timings["ReloadMiddleware, no check due"]
    wsgify = timings["webob wsgify pass-through"]
    added_minimal = minimal.median - bare.median
    added_reload = reload.median - bare.median
    return [
        "Fast path: time per request, median over rounds [min .. max], ratio to minimal",
        *(t.row(minimal) for t in timings.values()),
        f"added cost over the bare app: minimal {added_minimal * 1e9:.1f} ns, "
        f"ReloadMiddleware {added_reload * 1e9:.1f} ns "
        f"(ratio {added_reload / added_minimal:.2f}x)",
        f"whole call: ReloadMiddleware / minimal = {reload.median / minimal.median:.2f}x; "
        f"wsgify / ReloadMiddleware = {wsgify.median / reload.median:.1f}x",
    ]
