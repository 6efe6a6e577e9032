"""The data-folder rule of ``lrlab.data`` (``data_dir=None``) and the fetch command its
messages name."""

from __future__ import annotations

import os
from pathlib import Path

from lrlab import _validate
from lrlab.paths import default_data_choice


def data_folder(data_dir: str | os.PathLike | None) -> Path:
    """``data_dir`` as a Path; None is ``lrlab.paths.default_data_dir()`` (nothing fetched)."""
    if data_dir is None:
        return default_data_choice()[0]
    return _validate.path("data_dir", data_dir, allowed="a path (a str or os.PathLike) or None")


def fetch_command(dest: Path | str, extra: str = "") -> str:
    """The command that fills ``dest``, quoted for a message."""
    return f"`python -m lrlab.data fetch --dest {dest}{extra}`"
