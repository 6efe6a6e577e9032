"""``fetch``: fill a folder with GTSRB (a copy, a subset of the official archives, the full set,
or the SYNTHETIC stand-in) without ever losing data that is already there.

The data is built in ``.<dest>.<hex>.partial`` beside ``dest`` (locked while in use),
validated, marked ``.complete`` and renamed into place; a folder lrlab did not write is moved
aside, never deleted; what a killed fetch left is removed by the next one (``locks.is_stale``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lrlab import _validate
from lrlab.data.archives import (
    TEST_GT_ARCHIVE,
    TEST_IMAGES_ARCHIVE,
    TRAINING_ARCHIVE,
    DownloadError,
    archive_file,
    remove_stale_parts,
)
from lrlab.data.images import check_images
from lrlab.data.layout import (
    COMPLETE_FILE,
    SOURCE_FILE,
    Layout,
    describe,
    describe_source,
    find_layout,
    read_images,
    reason_of,
)
from lrlab.data.locks import is_stale, lock
from lrlab.data.subsets import (
    SUBSETS,
    full_from_archives,
    subset_from_training_archive,
    write_subset,
)
from lrlab.data.synthetic import draw_synthetic_gtsrb
from lrlab.paths import atomic_file

__all__ = ["fetch"]


@dataclass(frozen=True)
class _Request:
    """The checked arguments of ``fetch``; ``source_layout`` is the layout of ``source``."""

    dest: Path
    source: Path | None
    source_layout: Layout | None
    archives: Path | None
    synthetic: bool
    seed: int
    force: bool
    subset: str | None

    @property
    def copies(self) -> bool:
        """True when ``source`` is copied as it is (not cut into a subset)."""
        return self.source is not None and self.subset in (None, "full")


def _synthetic_description(seed: int, reason: str) -> str:
    return (
        f"SYNTHETIC stand-in drawn with Pillow, seed {seed} ({reason}) — "
        "numbers are not GTSRB results"
    )


# --------------------------------------------------------------------------- the arguments


def _check_apart(dest: Path, other: Path, option: str) -> None:
    here, there = dest.resolve(), other.resolve()
    if here == there or here in there.parents or there in here.parents:
        raise ValueError(
            f"--dest {dest} and {option} {other} overlap (one is or holds the other): filling or "
            f"replacing --dest could destroy {option}. Give a --dest outside it"
        )


def _source_folder(source, dest: Path) -> tuple[Path, Layout]:
    source = _validate.path("source", source)
    if not source.is_dir():
        raise FileNotFoundError(
            f"source folder {source} does not exist: give a folder holding GTSRB (such as "
            "a copy of gtsrb-tiny), or leave --source out to download the data"
        )
    layout = find_layout(source)  # a folder in no layout lrlab reads fails here, with its reason
    _check_apart(dest, source, "--source")
    return source, layout


def _archives_folder(archives, dest: Path) -> Path:
    archives = _validate.path("archives", archives)
    if not archives.is_dir():
        raise FileNotFoundError(
            f"archives folder {archives} does not exist: give the folder holding "
            f"{TRAINING_ARCHIVE.name} (and, for --subset full, {TEST_IMAGES_ARCHIVE.name} "
            f"and {TEST_GT_ARCHIVE.name})"
        )
    _check_apart(dest, archives, "--archives")
    return archives


def _request(dest, source, synthetic, seed, force, subset, archives) -> _Request:
    """``fetch``'s arguments checked, in the order its errors are reported."""
    dest = _validate.path("dest", dest)
    synthetic, force = _validate.flag("synthetic", synthetic), _validate.flag("force", force)
    seed = _validate.integer("seed", seed, minimum=0)
    if subset is not None:
        _validate.choice("subset", subset, SUBSETS, allowed="one of tiny, small, full")
    given = [n for n, v in (("source", source), ("archives", archives), ("synthetic", synthetic))
             if v is not None and v is not False]  # fmt: skip
    if len(given) > 1:
        raise ValueError(
            f"give at most one of --source, --archives and --synthetic, got {' and '.join(given)}"
        )
    if synthetic and subset not in (None, "tiny"):
        raise ValueError(f"the SYNTHETIC stand-in is of the tiny subset only, not {subset!r}")
    if dest.name in ("", ".", "..", "downloads"):
        raise ValueError(
            f"--dest {dest} cannot be filled: name a folder of its own (e.g. data/gtsrb-tiny); "
            "'downloads' is where lrlab keeps the archives"
        )
    source, source_layout = _source_folder(source, dest) if source is not None else (None, None)
    archives = _archives_folder(archives, dest) if archives is not None else None
    return _Request(dest, source, source_layout, archives, synthetic, seed, force, subset)


# --------------------------------------------------------------------------- what is at dest


def _partial_name(dest: Path) -> re.Pattern:
    return re.compile(rf"^\.{re.escape(dest.name)}\.[0-9a-f]{{8}}\.(partial|old)$")


def _remove_stale(dest: Path) -> None:
    """Remove what a killed fetch of ``dest`` left: its ``.<dest>.<hex>.partial`` build
    folders, a ``.<dest>.<hex>.old`` folder (the previous ``dest``: put back when ``dest`` is
    missing) and ``.part`` files of the official archives in ``<parent>/downloads``. Only
    those names, and only stale ones (see ``locks.is_stale``)."""
    if dest.parent.is_dir():
        pattern = _partial_name(dest)
        for left in sorted(dest.parent.iterdir()):
            if not pattern.match(left.name) or left.is_symlink() or not left.is_dir():
                continue
            if not is_stale(left):
                continue
            if left.name.endswith(".old") and not dest.exists() and not dest.is_symlink():
                print(f"putting back {dest} from {left}, left by an interrupted fetch")
                os.replace(left, dest)
            else:
                print(f"removing {left}, left by an interrupted fetch")
                shutil.rmtree(left)
    for archive in (TRAINING_ARCHIVE, TEST_IMAGES_ARCHIVE, TEST_GT_ARCHIVE):
        remove_stale_parts(dest.parent / "downloads" / archive.name)


def _keep(dest: Path) -> None:
    """Say why a non-empty ``dest`` fetched without ``force`` stays as it is (a folder lrlab
    completed, or GTSRB data lrlab reads); a ValueError naming anything else."""
    if (dest / COMPLETE_FILE).is_file():
        print(f"{dest} is complete ({describe_source(dest)}); left alone "
              "(use --force to replace it)")  # fmt: skip
        return
    try:
        account = check_images(find_layout(dest))
    except (OSError, ValueError) as error:
        raise ValueError(
            f"--dest {dest} already holds something that is not GTSRB data lrlab reads "
            f"({reason_of(error)}); nothing was changed. Give another --dest, or add "
            "--force to replace it"
        ) from None
    print(
        f"{dest} holds GTSRB data lrlab did not write ({account}): used as it is, "
        "nothing changed (--force replaces it)"
    )


def _dest_state(dest: Path, force: bool) -> str:
    """What to do with ``dest``: "keep" (nothing to fetch), "fill" (nothing of value there, or
    a folder lrlab completed and ``force`` replaces) or "move aside" (a user's folder ``force``
    replaces); a ValueError where even ``force`` must not replace it."""
    if dest.is_symlink() and force:
        raise ValueError(
            f"--dest {dest} is a symbolic link: --force would replace the link, not its target. "
            "Give the target folder as --dest, or remove the link yourself"
        )
    if dest.exists() and not dest.is_dir():
        raise ValueError(
            f"--dest {dest} is a file, not a folder: give another --dest (fetch never replaces "
            "a file, even with --force)"
        )
    if not dest.is_dir() or not any(dest.iterdir()):
        return "fill"
    if not force:
        _keep(dest)
        return "keep"
    if (dest / COMPLETE_FILE).is_file():
        print(f"--force: {dest} will be replaced once the new data is complete")
        return "fill"
    print(
        f"--force: {dest} was not written by lrlab (no {COMPLETE_FILE}): it will be "
        f"moved aside to {dest.name}.replaced-<timestamp> beside it, not deleted, "
        "once the new data is complete"
    )
    return "move aside"


# --------------------------------------------------------------------------- building


def _copy_folder(source: Path, dest: Path) -> None:
    """Copy the files of ``source`` into ``dest`` (not their permissions), except the markers."""
    for folder, _, files in os.walk(source):
        relative = Path(folder).relative_to(source)
        (dest / relative).mkdir(parents=True, exist_ok=True)
        for name in files:
            if relative == Path(".") and name in (SOURCE_FILE, COMPLETE_FILE):
                continue
            shutil.copyfile(Path(folder) / name, dest / relative / name)


def _from_source(built: Path, request: _Request) -> str:
    """Copy ``request.source`` into ``built``, or cut the subset from its training images."""
    if request.copies:
        _copy_folder(request.source, built)
        print(f"copied {request.source}")
        return describe(request.source_layout)
    records = read_images(request.source_layout, "train")
    write_subset(records, request.subset, built, request.seed)
    return f"{describe(request.source_layout)}, {request.subset} subset (seed {request.seed})"


def _stand_in_after(error: DownloadError, built: Path, seed: int) -> str:
    print(
        f"GTSRB download failed: {error}. Drawing a SYNTHETIC stand-in instead: numbers "
        "computed on it are not GTSRB results. For the real data, fetch again with network "
        "access (`python -m lrlab.data fetch --dest DIR --force`), with --source "
        "path/to/gtsrb, or with --archives DIR holding the official archives.",
        file=sys.stderr,
    )
    draw_synthetic_gtsrb(built, seed)
    return _synthetic_description(seed, "no GTSRB download was possible")


def _from_archives(built: Path, request: _Request) -> str:
    """The subset (tiny by default) or the full set, from the official archives; the tiny
    subset falls back to the SYNTHETIC stand-in when the download fails."""
    subset, downloads = request.subset or "tiny", request.dest.parent / "downloads"
    try:
        training = archive_file(TRAINING_ARCHIVE, request.archives, downloads)
    except DownloadError as error:
        if subset != "tiny":
            raise DownloadError(
                f"{error}. The {subset} set needs the official archives: fetch again with network "
                "access, or give --archives DIR holding them"
            ) from None
        return _stand_in_after(error, built, request.seed)
    if subset == "full":
        test_images = archive_file(TEST_IMAGES_ARCHIVE, request.archives, downloads)
        test_gt = archive_file(TEST_GT_ARCHIVE, request.archives, downloads)
        full_from_archives(training, test_images, test_gt, built)
        return "real GTSRB, the full official archives"
    subset_from_training_archive(training, built, request.seed, subset)
    return f"real GTSRB, {subset} subset of the official archives (seed {request.seed})"


def _build(built: Path, request: _Request) -> str:
    """Fill the empty folder ``built``; return the description line of what it holds."""
    if request.source is not None:
        return _from_source(built, request)
    if request.synthetic:
        draw_synthetic_gtsrb(built, request.seed)
        return _synthetic_description(request.seed, "asked for with --synthetic")
    return _from_archives(built, request)


def _check_built(built: Path, request: _Request) -> None:
    """``validate_gtsrb`` of ``built`` with every image decoded; a ValueError naming the file
    (under its path in the source, when it was copied from there) and what to do."""
    try:
        check_images(find_layout(built), decode_all=True)
    except (OSError, ValueError) as error:
        text = str(error)
        if request.copies:  # name the source's file, not the copy about to be deleted
            text = text.replace(str(built), str(request.source))
            advice = (
                f"replace or remove that file in {request.source} (and its line in the GT csv), "
                "or fetch from another source"
            )
        else:
            advice = "fetch again (add --force if the command asks for it)"
        raise ValueError(
            f"the data fetched for {request.dest} is not usable ({text}); nothing was changed: "
            f"{advice}"
        ) from None


@contextlib.contextmanager
def _build_folder(dest: Path) -> Iterator[Path]:
    """A new empty ``.<dest>.<hex>.partial`` beside ``dest``, locked while the block runs and
    removed after it unless the block moved it away."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    built = dest.parent / f".{dest.name}.{uuid.uuid4().hex[:8]}.partial"
    built.mkdir()  # with the usual permissions (a mkdtemp folder would be private)
    # a lock on the folder tells a later run that this build is in use (POSIX: a folder can
    # be opened and flock-ed; elsewhere staleness is judged by age alone)
    handle = os.open(built, os.O_RDONLY) if os.name == "posix" else None
    try:
        if handle is not None:
            lock(handle)
        yield built
    finally:
        if handle is not None:
            os.close(handle)
        if built.exists():
            shutil.rmtree(built)


# --------------------------------------------------------------------------- putting it in place


def _replace_folder(built: Path, dest: Path) -> None:
    """Move ``built`` to ``dest`` by renames; an old ``dest`` goes once ``built`` is in place."""
    if not dest.exists() or (dest.is_dir() and not any(dest.iterdir())):
        os.replace(built, dest)  # onto nothing, or onto an empty folder
        return
    previous = dest.parent / f".{dest.name}.{uuid.uuid4().hex[:8]}.old"
    os.replace(dest, previous)
    os.replace(built, dest)
    shutil.rmtree(previous)


def _aside_name(dest: Path) -> Path:
    """A free sibling ``<dest>.replaced-<UTC timestamp>`` (``-2``, ``-3``... if taken)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    aside = dest.parent / f"{dest.name}.replaced-{stamp}"
    number = 1
    while aside.exists() or aside.is_symlink():
        number += 1
        aside = dest.parent / f"{dest.name}.replaced-{stamp}-{number}"
    return aside


def _move_aside_and_replace(built: Path, dest: Path) -> Path:
    """Rename ``dest`` (a folder lrlab did not write) to a free ``<dest>.replaced-<stamp>``,
    then ``built`` to ``dest``; nothing is deleted. Returns where ``dest`` went."""
    aside = _aside_name(dest)
    os.replace(dest, aside)
    try:
        os.replace(built, dest)
    except OSError:
        os.replace(aside, dest)  # put the user's folder back
        raise
    return aside


def _mark_complete(built: Path, description: str) -> None:
    with atomic_file(built / SOURCE_FILE, "w", encoding="utf-8") as stream:
        stream.write(description + "\n")
    with atomic_file(built / COMPLETE_FILE, "w", encoding="utf-8"):
        pass


def fetch(
    dest: str | os.PathLike,
    source: str | os.PathLike | None = None,
    synthetic: bool = False,
    seed: int = 0,
    force: bool = False,
    subset: str | None = None,
    archives: str | os.PathLike | None = None,
) -> Path:
    """Fill ``dest`` with GTSRB data and return it; ``dest/.complete`` marks a finished fetch.

    What goes in, by ``subset``:

    - ``"tiny"`` (the default without ``source``): per class 20 training images over the
      kept tracks and 5 test images from held-out tracks (``select_tiny_subset``, seeded),
      in the official layout.
    - ``"small"``: the same held-out tracks, 100 training and 30 test images per class, as
      PNG in class folders ``train/<class>/``, ``test/<class>/`` under their
      ``<track>_<frame>`` names (gtsrb-small's layout), with GT csvs for the ROIs.
    - ``"full"``: the three official archives unpacked into the official layout.

    Where from: ``source``, a local folder in a layout ``load_gtsrb`` reads, is copied as it
    is when ``subset`` is None or "full", else the subset is cut from its training images
    (which must be named ``<track>_<frame>``, e.g. the official archive unpacked). Else the
    official archives, from the folder ``archives`` when given, else downloaded into
    ``<dest's parent>/downloads``, MD5-checked either way. The tiny subset falls back to the
    SYNTHETIC stand-in of ``draw_synthetic_gtsrb`` when the download fails (or when
    ``synthetic``); small and full stop with an error instead. ``dest/.lrlab-source`` gets
    one line describing the data.

    The data is built in ``.<dest>.<hex>.partial`` beside ``dest``, validated
    (``validate_gtsrb`` with every image decoded: seconds, even for the full set), marked and
    renamed into place at the end, so an interrupted fetch leaves nothing half-written; what a
    killed fetch left is removed by the next one. A missing or undecodable image is reported
    under its path in ``source`` when the data was copied from there.

    What is already at ``dest``: nothing, or an empty folder: filled. A folder lrlab
    fetched (``.complete``): left alone unless ``force``, which replaces it. A folder without
    ``.complete`` that holds GTSRB data lrlab reads (uploaded by hand, say): validated and
    used as it is, never written into. Anything else at ``dest`` (a non-empty folder in no
    layout, broken data): a ValueError naming it, and nothing changes. With ``force`` a
    non-empty folder without ``.complete`` is not deleted: it is renamed to a sibling
    ``<dest>.replaced-<UTC timestamp>`` (printed, for the user to delete or keep) once the new
    data is complete. Never replaced, even with ``force``: a file or a symbolic link at
    ``dest``, and a ``dest`` that is, holds or lies inside ``source`` or ``archives``.
    (The docstring is the account of the whole command; the body is its steps.)
    """
    request = _request(dest, source, synthetic, seed, force, subset, archives)
    dest = request.dest
    _remove_stale(dest)
    state = _dest_state(dest, request.force)
    if state == "keep":
        return dest
    with _build_folder(dest) as built:
        description = _build(built, request)
        _check_built(built, request)
        _mark_complete(built, description)
        if state == "move aside":
            aside = _move_aside_and_replace(built, dest)
            print(f"moved the previous {dest} aside to {aside}: delete it if you do not need it")
        else:
            _replace_folder(built, dest)
    print(f"{dest}: {description}")
    return dest
