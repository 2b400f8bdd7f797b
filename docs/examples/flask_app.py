"""A Flask application factory with reloadmw (see docs/frameworks/flask.rst)."""

import os

from flask import Flask

MESSAGE = "Hello from Flask! Edit MESSAGE in docs/examples/flask_app.py and save: watch this page."


def create_app():
    app = Flask(__name__)

    @app.get("/")
    def index():
        return f"<h1>{MESSAGE}</h1><p>Served by process {os.getpid()}.</p>"

    if os.environ.get("RELOADMW_WRAP"):  # under gunicorn, uWSGI or mod_wsgi: see the page
        from reloadmw import ReloadMiddleware

        # Flask's way to add WSGI middleware: `app` stays a Flask application.
        app.wsgi_app = ReloadMiddleware(app.wsgi_app)
    return app


application = create_app()
