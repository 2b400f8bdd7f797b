# Windows, mod_wsgi embedded mode: restart Apache's child through ap_signal_parent.
from hello import application as site_application

from reloadmw import ReloadMiddleware, hooks

application = ReloadMiddleware(
    site_application,
    hook=hooks.ApacheSignalParent(library="libhttpd", signal_type=1),
)
