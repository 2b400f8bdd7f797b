"""WSGI entry point of the example Django project, as startproject writes it, plus static
files served as runserver serves them (see docs/frameworks/django.rst)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")

application = get_wsgi_application()

from django.conf import settings  # noqa: E402

if settings.DEBUG:  # runserver serves static files itself; any other server needs this
    from django.contrib.staticfiles.handlers import StaticFilesHandler

    application = StaticFilesHandler(application)
