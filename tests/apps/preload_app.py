"""An app for the preload template's tests: it reports how the process that imports it began.

The tests copy it into a temporary directory beside ``lib/site-packages`` (put on
``PYTHONPATH``: reloadmw takes it for site-packages), which holds ``quietlib``
(a plain library, which the template may preload) and ``threadlib`` (one that
starts a thread when imported, which the template must leave out), and beside
``version.py``, which the tests edit. ``/`` answers, as JSON, what this process
saw when it imported the app: which libraries were in ``sys.modules`` already,
the project's modules, its threads, a random number, its ``sys.path``, working
directory and an environment variable, and the library's value.
"""

import json
import os
import random
import sys
import threading

PRELOADED = sorted(name for name in ("quietlib", "threadlib", "json") if name in sys.modules)

import quietlib  # noqa: E402
import threadlib  # noqa: E402, F401  (it starts a thread: the template leaves it out)
import version  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEEN = {
    "pid": os.getpid(),
    "preloaded": PRELOADED,
    "project": sorted(
        name
        for name, module in list(sys.modules.items())
        if str(getattr(module, "__file__", "") or "").startswith(HERE + os.sep)
        and "site-packages" not in str(module.__file__)
    ),
    "threads": sorted(thread.name for thread in threading.enumerate()),
    "native_threads": len(os.listdir("/proc/self/task")),
    "random": random.random(),
    "path": sys.path,
    "cwd": os.getcwd(),
    "env": os.environ.get("PRELOAD_MARK", ""),
    "quiet": quietlib.VALUE,
    "version": version.VERSION,
}


def application(environ, start_response):
    body = json.dumps(SEEN).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])  # fmt: skip
    return [body]
