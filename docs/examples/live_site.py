"""The live-reload example: a page with a stylesheet. Edit either, save, and watch the page.

Serve it from the project's root with
``reloadmw serve docs/examples/live_site.py --live-file 'docs/examples/static/*.css'``
and open http://127.0.0.1:8000/. An edit of TITLE below restarts the process and the
page reloads itself; an edit of static/site.css is swapped into the page in place.
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
TITLE = "Live reload"


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/static/site.css":
        with open(os.path.join(HERE, "static", "site.css"), "rb") as stream:
            body = stream.read()
        kind = "text/css"
    else:
        body = (
            "<!doctype html><html><head><meta charset=utf-8><title>reloadmw live reload</title>"
            '<link rel="stylesheet" href="/static/site.css"></head><body>'
            f"<h1>{TITLE}</h1><p>Edit TITLE in docs/examples/live_site.py, or a colour in "
            "docs/examples/static/site.css, and save: this page follows by itself.</p>"
            f"<p class=pid>Served by process {os.getpid()}.</p></body></html>"
        ).encode()
        kind = "text/html; charset=utf-8"
    start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
    return [body]
