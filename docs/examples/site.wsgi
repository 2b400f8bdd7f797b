# The WSGI script of the daemon-mode example (apache-daemon.conf).
from hello import application as site_application

from reloadmw import ReloadMiddleware

application = ReloadMiddleware(site_application)

# Optional: reloadmw installs this itself under daemon mode. Written out, it also
# works where reloadmw cannot find the script's module.
reload_required = application.reload_required
