"""The command line: ``python -m lrlab.data fetch --dest DIR [--subset tiny|small|full]
[--source DIR | --archives DIR | --synthetic] [--seed 0] [--force]`` (see ``fetch``).

It lives here, not in ``__main__.py``, so that ``lrlab.data.main`` can be imported: a package
that imports its own ``__main__`` makes ``python -m`` warn that the module is already loaded.
"""

from __future__ import annotations

import argparse
import signal
import sys
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from lrlab.data.archives import DownloadError
from lrlab.data.fetching import fetch
from lrlab.data.subsets import SUBSETS

__all__ = ["main"]

# every expected failure of a fetch: one line "error: ..." and exit status 1
_EXPECTED = (
    OSError,
    ValueError,
    TypeError,
    DownloadError,
    Image.DecompressionBombError,
    zipfile.BadZipFile,  # a damaged member of a zip that opened
    zlib.error,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lrlab.data", description="GTSRB data for lrlab."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_parser = commands.add_parser(
        "fetch",
        help="fill DEST with GTSRB (the tiny subset by default)",
        description="Copy a local GTSRB folder (--source), else cut the subset from the official "
        "archives (--archives DIR, else downloaded), else (tiny only) draw a SYNTHETIC stand-in. "
        "An existing DEST is never deleted unless lrlab wrote it or --force is given.",
    )
    fetch_parser.add_argument(
        "--dest", required=True, type=Path, help="folder to fill (e.g. data/gtsrb-tiny)"
    )
    fetch_parser.add_argument(
        "--subset",
        choices=SUBSETS,
        help="tiny (20 train + 5 test per class; the default), small (100 + 30 per class) or "
        "full (the official archives); with --source, cut from its training images",
    )
    fetch_parser.add_argument(
        "--source", type=Path, help="a local GTSRB folder to copy (or to cut --subset from)"
    )
    fetch_parser.add_argument(
        "--archives", type=Path, help="a folder holding the official GTSRB zip archives"
    )
    fetch_parser.add_argument(
        "--synthetic", action="store_true", help="draw the synthetic stand-in"
    )
    fetch_parser.add_argument(
        "--seed", type=int, default=0, help="seed of the subset or drawing (default 0)"
    )
    fetch_parser.add_argument(
        "--force", action="store_true", help="replace what is at DEST (a folder only)"
    )
    return parser


def _stop_on_sigterm(signal_number, frame) -> None:
    raise SystemExit(128 + signal_number)  # unwinds, so fetch removes its partial folder


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``python -m lrlab.data fetch --dest DIR [options]`` (see ``fetch``).

    Every expected failure prints one line ``error: ...`` and exits with status 1.
    """
    arguments = _parser().parse_args(argv)
    try:
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
    except ValueError:  # not the main thread
        pass
    try:
        fetch(
            arguments.dest,
            arguments.source,
            arguments.synthetic,
            arguments.seed,
            arguments.force,
            arguments.subset,
            arguments.archives,
        )
    except KeyboardInterrupt:
        print("interrupted: nothing was changed at --dest", file=sys.stderr)
        return 130
    except _EXPECTED as error:
        print("error: " + " ".join(str(error).split()), file=sys.stderr)
        return 1
    return 0
