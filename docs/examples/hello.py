"""The example app: edit MESSAGE below, save, and the page in your browser shows the change.

Serve it with the README's first command, ``reloadmw serve docs/examples/hello.py``,
on http://127.0.0.1:8000/. It is a plain WSGI application: ``reloadmw serve``
wraps it in ReloadMiddleware, starts it afresh when the code changes, and the page
reloads itself once the new code answers (live reload).
"""

import os

MESSAGE = "Hello from reloadmw! Edit MESSAGE in docs/examples/hello.py and save: watch this page."


def application(environ, start_response):
    body = (
        "<!doctype html><title>reloadmw example</title>"
        f"<h1>{MESSAGE}</h1><p>Served by process {os.getpid()}.</p>"
    ).encode()
    start_response(
        "200 OK",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


def app_factory(global_conf, **local_conf):
    """For PasteDeploy: ``use = call:hello:app_factory`` (see development.ini)."""
    return application
