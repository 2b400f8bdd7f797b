"""What a page's Content-Security-Policy lets the live-reload script do.

The tag that reloadmw adds to a page loads a script from the page's own origin
(``/__reloadmw__/live.js``), which then asks the same origin (``fetch``). Every
policy that the response sends (``Content-Security-Policy`` headers; a
report-only policy blocks nothing) must let it do both:

- load: ``script-src-elem``, else ``script-src``, else ``default-src`` allows
  ``'self'``, ``*``, the page's scheme or its host; or it names a nonce, which
  the tag then carries (with ``'strict-dynamic'``, only the nonce counts);
- connect: ``connect-src``, else ``default-src``, allows the page's origin.

Otherwise the page is left as it is, and the reason goes to a DEBUG line. A
policy in a ``<meta>`` tag of the page is not read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Permission:
    """Whether the tag may go in, with the nonce it must carry, or why not."""

    allowed: bool
    nonce: str | None = None
    why: str = ""


def _policies(headers: Iterable[tuple[str, str]]) -> list[dict[str, list[str]]]:
    """Each enforced policy as its directives (the first of a name counts, as in browsers)."""
    found = []
    for name, value in headers:
        if name.lower() != "content-security-policy":
            continue
        for text in value.split(","):  # one header may carry several policies
            directives: dict[str, list[str]] = {}
            for part in text.split(";"):
                words = part.split()
                if words:
                    directives.setdefault(words[0].lower(), words[1:])
            if directives:
                found.append(directives)
    return found


def _allows(sources: list[str], origin: str, path: str, *, strict_dynamic: bool = False) -> bool:
    """Whether a source list allows the URL ``origin`` + ``path`` by place (a source with a
    path allows what is under it when it ends with ``/``, else that path alone)."""
    scheme, _, rest = origin.partition("://")
    host, _, port = rest.partition(":")
    default_port = "443" if scheme == "https" else "80"
    port = port or default_port
    for source in sources:
        source = source.lower()
        if strict_dynamic:
            return False  # host, scheme and 'self' sources are ignored there
        if source in ("'self'", "*") or source == f"{scheme}:":
            return True
        if source.startswith("'") or source.endswith(":"):
            continue  # a keyword, a nonce, a hash, another scheme
        parts = urlsplit(source if "://" in source else f"{scheme}://{source}")
        try:
            wanted_port = str(parts.port or default_port)
        except ValueError:  # "host:*"
            wanted_port = "*"
        wanted_host = parts.hostname or ""
        host_ok = wanted_host == host or (
            wanted_host.startswith("*.") and host.endswith(wanted_host[1:])
        )
        path_ok = not parts.path or (
            path.startswith(parts.path) if parts.path.endswith("/") else path == parts.path
        )
        if parts.scheme == scheme and host_ok and wanted_port in (port, "*") and path_ok:
            return True
    return False


def _nonce(sources: list[str]) -> str | None:
    for source in sources:
        if source.lower().startswith("'nonce-") and source.endswith("'"):
            return source[len("'nonce-") : -1]
    return None


def permission(headers: Iterable[tuple[str, str]], origin: str, prefix: str) -> Permission:
    """What the policies among ``headers`` let the tag do on a page of ``origin``, for a
    script at ``prefix + "live.js"`` that asks ``prefix + "poll"``."""
    nonce: str | None = None
    for directives in _policies(headers):
        if "sandbox" in directives:
            return Permission(False, why="its policy sandboxes the page")
        default = directives.get("default-src")
        connect = directives.get("connect-src", default)
        if connect is not None and not _allows(connect, origin, f"{prefix}poll"):
            return Permission(False, why="its connect-src does not allow the page's own origin")
        scripts = directives.get("script-src-elem", directives.get("script-src", default))
        if scripts is None:
            continue
        strict = any(s.lower() == "'strict-dynamic'" for s in scripts)
        if _allows(scripts, origin, f"{prefix}live.js", strict_dynamic=strict):
            continue
        found = _nonce(scripts)
        if found is None:
            return Permission(
                False, why="its script-src allows neither the page's origin nor a nonce"
            )
        if nonce is not None and found != nonce:
            return Permission(False, why="its policies ask for different nonces")
        nonce = found
    return Permission(True, nonce)
