"""A WSGI app that reports its pid and the code version it runs.

Served by the end-to-end tests from a copy in a temporary directory, beside a
``version.py`` that the tests edit. ``/big`` answers 4 MB of known bytes, so a
test can tell a complete response from a truncated one.
"""

import os

import version  # the module that the tests edit

from reloadmw import ReloadMiddleware

BIG = bytes(range(256)) * (4 * 1024 * 1024 // 256)


def inner(environ, start_response):
    headers = [("X-Pid", str(os.getpid())), ("X-Version", str(version.VERSION))]
    if environ.get("PATH_INFO") == "/big":
        start_response("200 OK", [*headers, ("Content-Length", str(len(BIG)))])
        return [BIG]
    body = f"pid={os.getpid()} version={version.VERSION}\n".encode()
    start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
    return [body]


# Tell the tests that this process has imported the app, and with which version.
if os.environ.get("RELOADMW_TEST_READY_DIR"):
    ready = os.path.join(os.environ["RELOADMW_TEST_READY_DIR"], str(os.getpid()))
    with open(ready, "w") as stream:
        stream.write(str(version.VERSION))

application = ReloadMiddleware(
    inner, interval=float(os.environ.get("RELOADMW_TEST_INTERVAL", "0.5"))
)
