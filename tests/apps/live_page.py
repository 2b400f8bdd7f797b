"""A page for the live-reload tests: its text comes from words.py, its style from static/.

The browser tests copy it into a temporary directory beside ``words.py`` (which
they edit), ``static/site.css`` (a live file) and ``note.html`` (a template read
on each request). ``/`` is a tall page; ``/nonce`` sends a nonce-based
Content-Security-Policy and runs an inline script with that nonce; ``/self``
sends ``default-src 'self'``. Under gunicorn (``LIVE_WRAP=1``) it wraps itself
in ReloadMiddleware with live reload on; ``reloadmw serve`` wraps it otherwise.
"""

import os

import words  # the module that the tests edit

HERE = os.path.dirname(os.path.abspath(__file__))
NONCE = "r4nd0mN0nce"
POLICIES = {
    "/nonce": f"script-src 'nonce-{NONCE}' 'strict-dynamic'; connect-src 'self'",
    "/self": "default-src 'self'",
}


def _read(name):
    with open(os.path.join(HERE, name), "rb") as stream:
        return stream.read()


def page(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/static/site.css":
        body = _read("static/site.css")
        length = ("Content-Length", str(len(body)))
        start_response("200 OK", [("Content-Type", "text/css"), length])
        return [body]
    note = _read("note.html").decode()
    inline = f'<script nonce="{NONCE}">window.inline = 1;</script>' if path == "/nonce" else ""
    body = (
        "<!doctype html><html><head><meta charset=utf-8><title>live</title>"
        '<link rel="stylesheet" href="/static/site.css"></head><body>'
        f'<h1 id="text">{words.TEXT}</h1><p id="note">{note}</p>'
        f'<p id="pid">{os.getpid()}</p><div style="height: 4000px"></div>'
        f'<p id="end">end</p>{inline}</body></html>'
    ).encode()
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
    if path in POLICIES:
        headers.append(("Content-Security-Policy", POLICIES[path]))
    start_response("200 OK", headers)
    return [body]


if os.environ.get("LIVE_WRAP"):
    from reloadmw import ReloadMiddleware

    application = ReloadMiddleware(
        page, live_reload=True, live_files=["static/*.css", "note.html"], interval=0.25
    )
else:
    application = page
