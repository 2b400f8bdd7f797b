"""A WSGI app that reports its pid and the code version it runs.

The end-to-end tests copy it into a temporary directory (as ``app.py``, or as a
mod_wsgi script), beside a ``version.py`` that they edit and a ``settings.json``
that says how to wrap it. Every response names the pid that served it and the
version it ran, in headers and body. ``/big`` answers 4 MB of known bytes, so a
truncated response shows, and ``/huge`` 64 MB; ``/slow?seconds=N`` stays in
flight for N seconds; ``/echo`` answers the method, the length and the SHA-256
of the body it received; ``/page`` is an HTML page (for live reload).
"""

import json
import os
import time
from urllib.parse import parse_qs

import version  # the module that the tests edit

from reloadmw import ReloadMiddleware

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "settings.json")) as stream:
    SETTINGS = json.load(stream)

BIG = bytes(range(256)) * (4 * 1024 * 1024 // 256)


def inner(environ, start_response):
    headers = [("X-Pid", str(os.getpid())), ("X-Version", str(version.VERSION))]
    path = environ.get("PATH_INFO")
    if path == "/big":
        start_response("200 OK", [*headers, ("Content-Length", str(len(BIG)))])
        return [BIG]
    if path == "/huge":  # 64 MB, in 4 MB pieces
        start_response("200 OK", [*headers, ("Content-Length", str(16 * len(BIG)))])
        return (BIG for _ in range(16))
    if path == "/echo":  # what arrived: method, body length and digest
        import hashlib

        stream, digest, size = environ["wsgi.input"], hashlib.sha256(), 0
        left = int(environ.get("CONTENT_LENGTH") or 0)
        terminated = not left and environ.get("wsgi.input_terminated")
        while left > 0 or terminated:
            chunk = stream.read(min(1 << 16, left) if not terminated else 1 << 16)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
            left -= len(chunk)
        body = f"{environ['REQUEST_METHOD']} {size} {digest.hexdigest()}\n".encode()
        start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
        return [body]
    if path == "/page":  # HTML, for live reload
        body = f"<!doctype html><body><p>version {version.VERSION}</p></body>".encode()
        start_response("200 OK", [*headers, ("Content-Type", "text/html"),
                                  ("Content-Length", str(len(body)))])  # fmt: skip
        return [body]
    if path == "/slow":
        query = parse_qs(environ.get("QUERY_STRING", ""))
        time.sleep(float(query.get("seconds", ["1"])[0]))
    body = f"pid={os.getpid()} version={version.VERSION}\n".encode()
    start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
    return [body]


def app_factory(global_conf, **local_conf):
    """For ini files: ``use = call:app:app_factory``."""
    return inner


if "options" in SETTINGS:
    application = ReloadMiddleware(inner, **SETTINGS["options"])
    if SETTINGS.get("one_liner"):
        reload_required = application.reload_required
else:
    application = inner  # for servers that wrap it themselves (reloadmw serve)

# Tell the tests that this process has imported the app, and built the middleware
# (whose baseline is taken then: an edit before this point is not a change).
if SETTINGS.get("ready_dir") and not os.environ.get("RELOADMW_PREFLIGHT"):
    with open(os.path.join(SETTINGS["ready_dir"], str(os.getpid())), "w") as stream:
        stream.write(str(version.VERSION))
# And count the imports outside the server's workers: the fresh interpreters that answer
# held requests ("shared" or "request") and the import pre-flights ("preflight").
if SETTINGS.get("fresh_log") and os.environ.get("RELOADMW_PREFLIGHT"):
    with open(SETTINGS["fresh_log"], "a") as stream:
        kind = os.environ.get("RELOADMW_FRESH", "preflight")
        stream.write(f"{kind} {os.getpid()} {version.VERSION}\n")
