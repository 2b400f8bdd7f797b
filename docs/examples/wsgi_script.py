"""A WSGI script: the last lines wrap the application in ReloadMiddleware."""

from reloadmw import ReloadMiddleware


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello, world\n"]


application = ReloadMiddleware(application)
