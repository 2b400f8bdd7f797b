"""A WSGI script that shows reloadmw's INFO lines (Python shows WARNING and above only)."""

import logging

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

from hello import application as hello_application  # noqa: E402

from reloadmw import ReloadMiddleware  # noqa: E402

application = ReloadMiddleware(hello_application)
