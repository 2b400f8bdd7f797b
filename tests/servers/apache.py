"""Apache httpd with mod_wsgi, configured and started by the tests.

Debian's mod_wsgi (libapache2-mod-wsgi-py3) embeds Debian's own Python 3, not
necessarily the interpreter that runs the tests, and its daemon processes run
as www-data, which cannot read a home directory. So reloadmw, WebOb and
PasteDeploy are installed with ``pip --target`` into a world-readable
directory that the daemon puts on its path.
"""

from __future__ import annotations

import atexit
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from tests import support

MODULES = Path("/usr/lib/apache2/modules")
ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{root}/httpd.pid"
DefaultRuntimeDir "{root}"
ErrorLog "{root}/error.log"
LogLevel warn wsgi:info
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule wsgi_module {modules}/mod_wsgi.so
User www-data
Group www-data
Timeout 30
StartServers 1
ServerLimit 4
ThreadsPerChild 25
MaxRequestWorkers 100
WSGISocketPrefix "{root}/wsgi"
{site}
"""

SITE = """\
{mode}
WSGIScriptAlias / "{app}/{script}"
<Directory "{app}">
    Require all granted
</Directory>
"""

DAEMON = """\
WSGIDaemonProcess site processes={processes} threads={threads} python-path={path} \
shutdown-timeout=5 display-name=reloadmw-test
WSGIProcessGroup site
WSGIApplicationGroup %{{GLOBAL}}
"""

EMBEDDED = """\
WSGIPythonPath {path}
WSGIApplicationGroup %{{GLOBAL}}
"""


def apache_binary() -> str:
    path = support.require_executable("apache2")
    if not (MODULES / "mod_wsgi.so").exists():
        import pytest

        pytest.fail("mod_wsgi is not installed: run the README's test command, which installs it")
    return path


def install_site(directory: Path) -> Path:
    """reloadmw (from this checkout), WebOb and PasteDeploy, readable by the daemon user."""
    target = directory / "site-packages"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--target", str(target), str(ROOT), "WebOb", "PasteDeploy"],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"pip could not install the mod_wsgi site:\n{result.stderr}")
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def shared_site() -> Path:
    """One site directory per test session (pip takes seconds), made on first use."""
    global _site
    if _site is None:
        directory = Path(tempfile.mkdtemp(prefix="reloadmw-site-"))
        atexit.register(shutil.rmtree, directory, True)  # the session's, gone with it
        directory.chmod(0o755)
        _site = install_site(directory)
    return _site


_site: Path | None = None


class Apache(support.Server):
    """Apache in the foreground, serving ``app/script`` through mod_wsgi."""

    def __init__(
        self,
        app: Path,
        script: str,
        *,
        root: Path,
        daemon: bool = True,
        processes: int = 1,
        threads: int = 8,
        site: str | None = None,
        port: int | None = None,
    ) -> None:
        """``site``, when given, replaces the generated mod_wsgi directives (a doc's example)."""
        port = port or support.free_port()
        root.mkdir(mode=0o755, exist_ok=True)
        path = f"{shared_site()}:{app}"
        mode = (
            DAEMON.format(processes=processes, threads=threads, path=path)
            if daemon
            else EMBEDDED.format(path=path)
        )
        if site is None:
            site = SITE.format(mode=mode, app=app, script=script)
        config = root / "httpd.conf"
        config.write_text(CONFIG.format(root=root, port=port, modules=MODULES, site=site))
        super().__init__(
            [apache_binary(), "-f", str(config), "-DFOREGROUND"],
            port=port,
            log_dir=root,
            stop_signal=signal.SIGTERM,
        )
        self.error_log = root / "error.log"

    def log(self) -> str:
        try:
            return super().log() + self.error_log.read_text(errors="replace")
        except OSError:
            return super().log()


def express_venv() -> Path:
    """mod_wsgi-express (PyPI mod_wsgi) with reloadmw, made once per test session.

    Built with Debian's own python3 (readable by the user the daemons run as) and
    without pip's wheel cache: a wheel built against another Python of the same
    version would be reused, and every request would fail (see SERVERS.md).
    """
    global _express
    if _express is None:
        python = Path("/usr/bin/python3")
        if not python.exists():
            import pytest

            pytest.fail("Debian's python3 is missing: run the README's test command")
        directory = Path(tempfile.mkdtemp(prefix="reloadmw-express-"))
        atexit.register(shutil.rmtree, directory, True)
        directory.chmod(0o755)
        venv = directory / "venv"
        subprocess.run([str(python), "-m", "venv", str(venv)], check=True, timeout=120)
        result = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", "--no-cache-dir", "--no-binary", "mod_wsgi",
             "mod_wsgi", str(ROOT)],
            capture_output=True,
            text=True,
            timeout=600,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"pip could not build mod_wsgi-express:\n{result.stderr}")
        for path in [directory, *directory.rglob("*")]:
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() else path.stat().st_mode | 0o644)
        _express = venv
    return _express


_express: Path | None = None


class Express(support.Server):
    """``mod_wsgi-express start-server`` serving ``app/script`` in daemon mode."""

    def __init__(self, app: Path, script: str, *, root: Path, port: int | None = None) -> None:
        port = port or support.free_port()
        venv = express_venv()
        super().__init__(
            [str(venv / "bin" / "mod_wsgi-express"), "start-server", str(app / script),
             "--host", "127.0.0.1", "--port", str(port), "--server-root", str(root),
             "--python-path", str(app), "--user", "nobody", "--group", "nogroup",
             "--locale", "C.UTF-8", "--log-to-terminal",
             # mod_wsgi-express refuses bodies over 10 MB by default; the tests send 64 MB.
             "--limit-request-body", str(128 * 1024 * 1024)],
            port=port,
            log_dir=app,
            stop_signal=signal.SIGTERM,
        )  # fmt: skip
