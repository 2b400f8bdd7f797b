"""Every option of ReloadMiddleware, with a value other than its default."""

from reloadmw import ReloadMiddleware


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]


application = ReloadMiddleware(
    app,
    interval=0.5,
    hook="signal:SIGTERM",
    extra_files=["templates/**/*.html", "settings.toml"],
    exclude=["*/migrations/*.py"],
    include_site_packages=True,
    enabled=True,
    replay=False,
    syntax_check=False,
    on_change="retry",
    backend="inotify",
)
