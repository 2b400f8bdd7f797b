"""Sphinx configuration for the reloadmw documentation (built with -W: warnings fail)."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.abspath("_ext"))

project = "reloadmw"
author = "The reloadmw developers"
copyright = "2026, The reloadmw developers"
release = "0.1.0.dev0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.graphviz",
    "generated",
]
html_theme = "furo"
html_static_path = ["_static"]
html_css_files = ["reloadmw.css"]
html_title = "reloadmw"
graphviz_output_format = "svg"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
nitpicky = False
exclude_patterns = ["_build", "benchmarks/*.txt", "_generated"]
