"""The example app, wrapped in its own module: for gunicorn, uWSGI and wsgiref."""

from hello import application as hello_application

from reloadmw import ReloadMiddleware

application = ReloadMiddleware(hello_application)
