"""Run under the simulated Windows interpreter: reloadmw in Apache's embedded mode.

Builds ReloadMiddleware with ``hook="auto"`` over a tree of modules, answers
two requests as mod_wsgi's embedded mode would send them (an edit in between),
and prints one JSON line: what reloadmw chose and the order in which things
happened. ``ap_signal_parent`` comes from a library named ``libhttpd`` found on
LD_LIBRARY_PATH (WinDLL stands in for CDLL here), which appends to the file
named by RELOADMW_TEST_EVENTS, as the script does.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import wsgiref.util

from reloadmw import ReloadMiddleware

tree, events = sys.argv[1], os.environ["RELOADMW_TEST_EVENTS"]
sys.path.insert(0, tree)
names = sorted(name[:-3] for name in os.listdir(tree) if name.endswith(".py"))
for name in names:
    importlib.import_module(name)
logging.basicConfig(level=logging.INFO, stream=sys.stderr)


def note(line: str) -> None:
    with open(events, "a") as stream:
        stream.write(line + "\n")


class Body:
    def __init__(self, number: int) -> None:
        self.number = number

    def __iter__(self):
        yield f"response {self.number}".encode()

    def close(self) -> None:
        note(f"closed response {self.number}")


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Body(environ["test.number"])


middleware = ReloadMiddleware(app, interval=0, hook="auto")


def request(number: int) -> bytes:
    environ: dict[str, object] = {
        "mod_wsgi.process_group": "",  # embedded mode
        "mod_wsgi.version": (4, 9, 4),
        "SERVER_SOFTWARE": "Apache/2.4.62 (Win64) mod_wsgi/4.9.4 Python/3.11",
        "test.number": number,
    }
    wsgiref.util.setup_testing_defaults(environ)
    body = middleware(environ, lambda status, headers, exc_info=None: None)
    try:
        return b"".join(body)
    finally:
        body.close()  # type: ignore[attr-defined]


first = request(1)
time.sleep(0.01)
edited = os.path.join(tree, names[-1] + ".py")
with open(edited, "a") as stream:
    stream.write("VALUE = 2\n")
second = request(2)
print(
    json.dumps(
        {
            "platform": sys.platform,
            "bodies": [first.decode(), second.decode()],
            "hook": middleware.hook.name if middleware.hook else None,
            "backend": middleware.options.backend,
            "watched": sorted(middleware.watched_files),
            "edited": edited,
        }
    )
)
