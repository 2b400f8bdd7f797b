"""Warming a new server process before it takes over, so that the restart line's time is
the developer's wait and the first page does not pay for what a framework loads lazily.

Django imports the project's URL module, and with it every view, at the first request:
on a Wagtail site that is a quarter of a second after the process said it was ready.
Resolving the URL patterns here moves that before ``Ready``. Nothing else is called: a
request made up for the purpose could change the application's data.
"""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger("reloadmw")


def warm() -> float:
    """Load what the application's framework would load at its first request; the seconds
    it took. An error is left for that request to show."""
    started = time.monotonic()
    urls, conf = sys.modules.get("django.urls"), sys.modules.get("django.conf")
    if urls is not None and conf is not None and conf.settings.configured:
        try:
            patterns = urls.get_resolver().url_patterns  # imports the URL module, the views
            log.debug("warmed %d URL patterns", len(patterns))
        except Exception as error:
            log.debug("warming Django's URL patterns failed: %r", error)
    return time.monotonic() - started
