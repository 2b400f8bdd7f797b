"""``python -m reloadmw serve TARGET``."""

import sys

from .cli import main

sys.exit(main())
