"""A WSGI app for ini pipelines: ``use = call:tests.apps.hello:app_factory``."""

from __future__ import annotations


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def app_factory(global_conf, **local_conf):
    return app
