"""Where a lesson finds its data and puts its figures.

The project root is the nearest folder, from the working directory upwards,
that holds both ``pyproject.toml`` and ``notebooks/`` (a checkout of this
repository). Outside a checkout (Colab, a learner's own folder) the working
directory stands in for it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def project_root(start: str | os.PathLike | None = None) -> Path:
    """The checkout this code runs in, else the working directory."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "notebooks").is_dir():
            return folder
    return here


def figures_dir() -> Path:
    """``$LRLAB_FIGURES_DIR`` if set, else ``<project root>/figures``."""
    return Path(os.environ.get("LRLAB_FIGURES_DIR") or project_root() / "figures")


# The default data folder, relative to the project root.
DEFAULT_DATA_FOLDER = Path("data") / "gtsrb-tiny"
DATA_DIR_VARIABLE = "LRLAB_DATA_DIR"


def default_data_choice() -> tuple[Path, str]:
    """The data folder and the rule that chose it: ``(folder, "LRLAB_DATA_DIR")`` when that
    variable is set (not empty), else ``(<project root>/data/gtsrb-tiny, "default")``."""
    chosen = os.environ.get(DATA_DIR_VARIABLE)
    if chosen:
        return Path(chosen), DATA_DIR_VARIABLE
    return project_root() / DEFAULT_DATA_FOLDER, "default"


def default_data_dir() -> Path:
    """``$LRLAB_DATA_DIR`` if set, else ``<project root>/data/gtsrb-tiny``.

    ``lrlab.data.find_gtsrb()`` resolves the same folder and fetches the tiny subset into
    it when it is missing.
    """
    return default_data_choice()[0]


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "w", **open_arguments) -> Iterator[IO]:
    """Write ``path`` whole or not at all: ``with atomic_file(path) as stream: ...``.

    The stream is a temporary file beside ``path``; when the block ends without an exception
    it gets the usual permissions of a new file (``0o666`` less the umask; ``mkstemp`` makes
    ``0o600``) and is renamed onto ``path``. On an exception it is removed and ``path`` is
    as it was. ``mode`` is ``"w"`` or ``"wb"``; ``open_arguments`` go to ``open``.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent
    )
    try:
        with os.fdopen(handle, mode, **open_arguments) as stream:
            yield stream
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
