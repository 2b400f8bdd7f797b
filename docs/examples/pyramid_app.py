"""A Pyramid application, served from pyramid.ini (see docs/frameworks/pyramid.rst)."""

import os

from pyramid.config import Configurator
from pyramid.response import Response

MESSAGE = "Hello from Pyramid! Edit MESSAGE in docs/examples/pyramid_app.py, then reload."


def index(request):
    return Response(f"<h1>{MESSAGE}</h1><p>Served by process {os.getpid()}.</p>")


def main(global_config, **settings):
    """The ``paste.app_factory`` that pyramid.ini names with ``call:pyramid_app:main``."""
    with Configurator(settings=settings) as config:
        config.add_route("index", "/")
        config.add_view(index, route_name="index")
    return config.make_wsgi_app()
