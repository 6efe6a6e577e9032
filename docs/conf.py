"""Sphinx configuration of the lessons' site (``make site``; tools/build_site.py stages the
sources it reads: the README's lesson table as the landing page and the stored notebooks).

The notebooks are rendered with the outputs they store, never executed here: nbval already
checks those outputs (``make test``). Headings get the anchors Jupyter gives them (the
heading's text with spaces as dashes), so the links between lessons that work in JupyterLab
and on Colab work on the site too, and a link to a heading that does not exist fails the build.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

project = "lrlab"
author = "the lrlab authors"
copyright = "the lrlab authors"

extensions = ["myst_nb"]
# Stored outputs only (nbval checks them); a notebook is never run to build the site.
nb_execution_mode = "off"
nb_merge_streams = True
# The schedule sliders (lrlab.explore) store a widget view beside a static figure: the site
# has no kernel to move them, so it shows the figure and loads no widget script.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
nb_ipywidgets_js = {}
myst_heading_anchors = 4
myst_heading_slug_func = "site_anchors.jupyter_anchor"
exclude_patterns = ["_build", "**.ipynb_checkpoints", ".lrlab-site-sources"]
suppress_warnings = []

html_theme = "sphinx_book_theme"
html_title = "lrlab: learning rates, from the formula to the range test"
html_theme_options = {
    "show_toc_level": 2,
    "home_page_in_toc": True,
}
# A first visit (nothing in the browser's storage) starts in this mode; without it the theme
# logs "Got invalid theme mode" as a console error on the first page a reader opens.
html_context = {"default_mode": "light"}
html_static_path = []
html_last_updated_fmt = None
html_show_sourcelink = False
# the general index would be empty: lrlab has no index entries
html_use_index = False
