"""The example app: edit MESSAGE below, reload the page, and see the change.

Serve it with the README's first command (gunicorn on http://127.0.0.1:8000/).
"""

import os

from reloadmw import ReloadMiddleware

MESSAGE = "Hello from reloadmw! Edit MESSAGE in docs/examples/hello.py, then reload this page."


def hello_app(environ, start_response):
    body = (
        "<!doctype html><title>reloadmw example</title>"
        f"<h1>{MESSAGE}</h1><p>Served by process {os.getpid()}.</p>"
    ).encode()
    start_response(
        "200 OK",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


application = ReloadMiddleware(hello_app)
