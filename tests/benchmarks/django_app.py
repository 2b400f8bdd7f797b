"""A realistic app: a Django project of a few apps, Django and its dependencies loaded.

reloadmw with its defaults (the project's files; not site-packages, never the
standard library) beside Django's own StatReloader tick in the same process.
Runs in a fresh interpreter: ``python -m tests.benchmarks.django_app``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tempfile
import textwrap

from tests.benchmarks.timing import interleaved

SETTINGS = """
SECRET_KEY = "benchmark"
DEBUG = True
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
    "blog", "shop", "accounts",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "site_conf.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
STATIC_URL = "static/"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""

APP_FILES = {
    "__init__.py": "",
    "apps.py": (
        "from django.apps import AppConfig\n\nclass Config(AppConfig):\n    name = '{app}'\n"
    ),
    "models.py": (
        "from django.db import models\n\n"
        "class Item(models.Model):\n    title = models.CharField(max_length=100)\n"
        "    created = models.DateTimeField(auto_now_add=True)\n"
    ),
    "admin.py": (
        "from django.contrib import admin\nfrom .models import Item\n\nadmin.site.register(Item)\n"
    ),
    "views.py": (
        "from django.http import HttpResponse\n\n"
        "def index(request):\n    return HttpResponse('{app}')\n"
    ),
    "urls.py": (
        "from django.urls import path\nfrom . import views\n\n"
        "urlpatterns = [path('', views.index)]\n"
    ),
}

URLS = """
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("blog/", include("blog.urls")),
    path("shop/", include("shop.urls")),
    path("accounts/", include("accounts.urls")),
]
"""


def make_project(root: str) -> None:
    os.makedirs(os.path.join(root, "site_conf"))
    for name, text in {"__init__.py": "", "settings.py": SETTINGS, "urls.py": URLS}.items():
        with open(os.path.join(root, "site_conf", name), "w") as stream:
            stream.write(textwrap.dedent(text))
    for app in ("blog", "shop", "accounts"):
        os.makedirs(os.path.join(root, app))
        for name, text in APP_FILES.items():
            with open(os.path.join(root, app, name), "w") as stream:
                stream.write(text.replace("{app}", app))


def run(rounds: int) -> dict[str, object]:
    root = tempfile.mkdtemp(prefix="reloadmw-django-")
    sys.path.insert(0, root)
    try:
        make_project(root)
        os.environ["DJANGO_SETTINGS_MODULE"] = "site_conf.settings"
        from django.core.wsgi import get_wsgi_application
        from django.utils import autoreload

        from reloadmw import ReloadMiddleware

        django_app = get_wsgi_application()
        for path in ("/blog/", "/shop/", "/accounts/", "/admin/login/"):
            environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "localhost",
                       "SERVER_PORT": "80", "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http",
                       "wsgi.errors": io.StringIO()}  # fmt: skip
            b"".join(django_app(environ, lambda *a: None))  # loads views, templates, admin
        middleware = ReloadMiddleware(django_app)
        watcher = middleware._check.watcher
        assert watcher is not None
        reloader = autoreload.StatReloader()
        reloader.SLEEP_TIME = 0
        ticker = reloader.tick()
        next(ticker)
        timings = interleaved(
            {
                "reloadmw, defaults": watcher.check,
                "Django StatReloader tick": lambda: next(ticker),
            },
            number=5,
            rounds=rounds,
        )
        ours, theirs = timings["reloadmw, defaults"], timings["Django StatReloader tick"]
        return {
            "modules": len(sys.modules),
            "reloadmw_files": len(watcher),
            "django_files": len(set(reloader.watched_files())),
            "reloadmw": ours.median,
            "django": theirs.median,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def report(result: dict[str, object]) -> list[str]:
    ours, theirs = float(result["reloadmw"]), float(result["django"])  # type: ignore[arg-type]
    return [
        f"A Django project (3 apps, admin; {result['modules']} modules loaded)",
        f"reloadmw, defaults: {result['reloadmw_files']} files, {ours * 1e3:.3f} ms per check",
        f"Django StatReloader tick: {result['django_files']} files, {theirs * 1e3:.3f} ms",
        f"reloadmw is {theirs / ours:.0f}x cheaper",
    ]


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 15)))
