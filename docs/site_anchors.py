"""The anchor Jupyter gives a heading: its text with every space replaced by a dash.

JupyterLab, Jupyter Notebook and Colab link ``lesson.ipynb#1.-Some-heading`` to the heading
"1. Some heading"; the lessons link to each other that way, and the site (docs/conf.py) uses
the same anchors so that those links resolve there too.
"""


def jupyter_anchor(text: str) -> str:
    return text.strip().replace(" ", "-")
