"""Writing GTSRB folders: the tiny and small subsets chosen by track, the full set from the
official archives, in the layouts ``lrlab.data.layout`` reads.

The tiny subset: per class, 20 training images spread over the tracks kept for training, and
5 test images from held-out tracks (a fifth of the class's tracks, at least one), in the
official layout. The small subset: 100 + 30 per class, PNG in class folders.
"""

from __future__ import annotations

import csv
import math
import os
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from lrlab.data.archives import open_zip, safe_extract
from lrlab.data.images import open_rgb
from lrlab.data.layout import CLASS_NAMES, GT_COLUMNS, ImageRecord, read_class_folders
from lrlab.paths import atomic_file

__all__ = [
    "HELD_OUT_TRACK_FRACTION",
    "SMALL_TEST_PER_CLASS",
    "SMALL_TRAIN_PER_CLASS",
    "SUBSETS",
    "TEST_PER_CLASS",
    "TRAIN_PER_CLASS",
    "select_tiny_subset",
]

# The subsets fetch makes: tiny (the lessons' default), small (for comparisons), full.
SUBSETS = ("tiny", "small", "full")
TRAIN_PER_CLASS = 20
TEST_PER_CLASS = 5
HELD_OUT_TRACK_FRACTION = 0.2
SMALL_TRAIN_PER_CLASS = 100
SMALL_TEST_PER_CLASS = 30


@dataclass(frozen=True)
class Sample:
    """An image to write into the official layout; ``write(path)`` puts its bytes there."""

    label: int
    name: str  # <track>_<frame>.<ext>
    size: tuple[int, int]
    roi: tuple[int, int, int, int]
    write: Callable[[Path], Any]


def save_image(image: Image.Image, path: Path, image_format: str) -> None:
    """``image`` saved whole (``lrlab.paths.atomic_file``) as ``image_format`` at ``path``."""
    with atomic_file(path, "wb") as stream:
        image.save(stream, image_format)


def _write_csv(path: Path, header: Sequence, rows, **dialect) -> None:
    with atomic_file(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, **dialect)
        writer.writerow(header)
        writer.writerows(rows)


def write_gt_csv(path: Path, rows: list[tuple]) -> None:
    """A GT csv as the official ones: ``;``-separated, CRLF line ends, ``GT_COLUMNS``."""
    _write_csv(path, GT_COLUMNS, rows, delimiter=";", lineterminator="\r\n")


def write_sign_names(dest: Path) -> None:
    """``dest/signnames.csv``: ``ClassId,SignName`` as the benchmark's."""
    _write_csv(dest / "signnames.csv", ("ClassId", "SignName"), enumerate(CLASS_NAMES))


def write_official_layout(dest: Path, train: list[Sample], test: list[Sample], seed: int) -> None:
    """Training samples into class folders with csvs; test samples numbered in seeded order."""
    by_class: dict[int, list[Sample]] = defaultdict(list)
    for sample in train:
        by_class[sample.label].append(sample)
    for label, samples in sorted(by_class.items()):
        folder = dest / "Final_Training" / "Images" / f"{label:05d}"
        folder.mkdir(parents=True)
        for sample in samples:
            sample.write(folder / sample.name)
        rows = [(s.name, *s.size, *s.roi, s.label) for s in samples]
        write_gt_csv(folder / f"GT-{label:05d}.csv", rows)
    test_folder = dest / "Final_Test" / "Images"
    test_folder.mkdir(parents=True)
    rows = []
    for number, index in enumerate(np.random.default_rng(seed).permutation(len(test))):
        sample = test[index]
        name = f"{number:05d}{Path(sample.name).suffix}"
        sample.write(test_folder / name)
        rows.append((name, *sample.size, *sample.roi, sample.label))
    write_gt_csv(dest / "Final_Test" / "GT-final_test.csv", rows)
    write_sign_names(dest)


def _spread(tracks: list[list[ImageRecord]], count: int) -> list[ImageRecord]:
    """``count`` images shared as evenly as possible over ``tracks``, evenly spaced within each."""
    quotas = [0] * len(tracks)
    while count > sum(quotas) and any(q < len(t) for q, t in zip(quotas, tracks, strict=True)):
        for position, track in enumerate(tracks):
            if count > sum(quotas) and quotas[position] < len(track):
                quotas[position] += 1
    chosen = []
    for quota, track in zip(quotas, tracks, strict=True):
        frames = sorted(track, key=lambda r: r.path.name)
        chosen.extend(frames[i] for i in np.linspace(0, len(frames) - 1, quota).round().astype(int))
    return chosen


def select_tiny_subset(
    records: Sequence[ImageRecord],
    seed: int = 0,
    train_per_class: int = TRAIN_PER_CLASS,
    test_per_class: int = TEST_PER_CLASS,
) -> tuple[list[ImageRecord], list[ImageRecord]]:
    """The images ``(train, test)`` of the tiny subset, chosen per class from whole tracks.

    A class's tracks are shuffled (seeded); the first ``ceil(0.2 * tracks)`` (at least one,
    at most all but one) are held out for test. ``train_per_class`` images are spread over
    the other tracks and ``test_per_class`` over the held-out ones (fewer where a class has
    fewer), so no track is in both.
    """
    rng = np.random.default_rng(seed)
    by_class: dict[int, dict[str, list[ImageRecord]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        if record.track is None:
            raise ValueError(
                f"{record.path} is not named <track>_<frame>.<ext>: its track is unknown"
            )
        by_class[record.label][record.track].append(record)
    train, test = [], []
    for label in sorted(by_class):
        tracks = [by_class[label][name] for name in sorted(by_class[label])]
        if len(tracks) < 2:
            raise ValueError(f"class {label} has a single track: none can be held out for test")
        tracks = [tracks[i] for i in rng.permutation(len(tracks))]
        held_out = min(max(1, math.ceil(HELD_OUT_TRACK_FRACTION * len(tracks))), len(tracks) - 1)
        test.extend(_spread(tracks[:held_out], test_per_class))
        train.extend(_spread(tracks[held_out:], train_per_class))
    return train, test


def _copied_sample(record: ImageRecord) -> Sample:
    try:
        with Image.open(record.path) as image:
            image.load()  # decode it all: a truncated file fails here, named as the source's
            size = image.size
    except (OSError, Image.DecompressionBombError) as error:
        raise ValueError(f"cannot read image {record.path} ({error})") from error
    return Sample(
        record.label,
        record.path.name,
        size,
        record.roi,
        lambda path: shutil.copyfile(record.path, path),
    )


def _write_class_folder_layout(
    dest: Path, train: Sequence[ImageRecord], test: Sequence[ImageRecord]
) -> None:
    """``train/<class:05d>/`` and ``test/<class:05d>/`` with the images as lossless PNG under
    their own ``<track>_<frame>`` names, a ``GT-<class:05d>.csv`` (ROIs) where the images have
    ROIs, and ``signnames.csv``: the layout of gtsrb-small."""
    for split, records in (("train", train), ("test", test)):
        by_class: dict[int, list[ImageRecord]] = defaultdict(list)
        for record in records:
            by_class[record.label].append(record)
        for label, members in sorted(by_class.items()):
            folder = dest / split / f"{label:05d}"
            folder.mkdir(parents=True)
            rows = []
            for record in sorted(members, key=lambda r: r.path.name):
                name = f"{record.path.stem}.png"
                image = open_rgb(record.path)
                save_image(image, folder / name, "PNG")
                if record.roi is not None:
                    rows.append((name, *image.size, *record.roi, label))
            if len(rows) == len(members):
                write_gt_csv(folder / f"GT-{label:05d}.csv", rows)
    write_sign_names(dest)


def write_subset(
    records: Sequence[ImageRecord], subset: str, dest: Path, seed: int, extract=None
) -> None:
    """Choose the ``subset`` ("tiny" or "small") of ``records`` and write it into ``dest``:
    tiny in the official layout, small in class folders. ``extract(records)``, when given,
    first puts the chosen files in place (from an archive)."""
    per_class = {"tiny": (TRAIN_PER_CLASS, TEST_PER_CLASS)}.get(
        subset, (SMALL_TRAIN_PER_CLASS, SMALL_TEST_PER_CLASS)
    )
    train, test = select_tiny_subset(records, seed, *per_class)
    if extract is not None:
        extract(train + test)
    if subset == "tiny":
        write_official_layout(
            dest, [_copied_sample(r) for r in train], [_copied_sample(r) for r in test], seed
        )
    else:
        _write_class_folder_layout(dest, train, test)


def _training_records(archive: Path, work: Path) -> list[ImageRecord]:
    """The images of the official training archive, from its csvs extracted into ``work``."""
    with open_zip(archive) as opened:
        names = opened.namelist()
    csv_members = [n for n in names if re.search(r"(^|/)GT-\d{5}\.csv$", n)]
    if not csv_members:
        raise ValueError(
            f"{archive} has no GT-<class>.csv files: it is not the GTSRB training archive"
        )
    safe_extract(archive, work, csv_members)
    return read_class_folders((work / csv_members[0]).parent.parent, require_csv=True)


def subset_from_training_archive(archive: Path, dest: Path, seed: int, subset: str) -> None:
    """Write the ``subset`` of the official training archive into ``dest``."""
    work = dest / ".unpacked"  # inside the folder being built: it goes with it
    records = _training_records(archive, work)

    def extract(chosen: Sequence[ImageRecord]) -> None:
        safe_extract(archive, work, sorted(r.path.relative_to(work).as_posix() for r in chosen))

    write_subset(records, subset, dest, seed, extract)
    shutil.rmtree(work)


def _single_folder_of(archive: Path, work: Path, pattern: str, what: str) -> Path:
    """Extract ``archive`` into ``work``; the folder of its members matching ``pattern``."""
    with open_zip(archive) as opened:
        names = [n for n in opened.namelist() if re.search(pattern, n)]
    folders = {str(Path(n).parent) for n in names}
    if len(folders) != 1:
        raise ValueError(f"{archive} does not hold {what}: it is not the official GTSRB archive")
    safe_extract(archive, work)
    return work / folders.pop()


def full_from_archives(training: Path, test_images: Path, test_gt: Path, dest: Path) -> None:
    """The official archives unpacked into the official layout under ``dest``."""
    work = dest / ".unpacked"
    training_csvs = _single_folder_of(
        training, work / "training", r"(^|/)GT-00000\.csv$", "the training images"
    )
    (dest / "Final_Training").mkdir()
    os.replace(training_csvs.parent, dest / "Final_Training" / "Images")
    images = _single_folder_of(
        test_images, work / "test", r"(^|/)\d{5}\.ppm$", "the test images (<number>.ppm)"
    )
    (dest / "Final_Test").mkdir()
    os.replace(images, dest / "Final_Test" / "Images")
    gt_folder = _single_folder_of(
        test_gt, work / "gt", r"(^|/)GT-final_test\.csv$", "GT-final_test.csv"
    )
    os.replace(gt_folder / "GT-final_test.csv", dest / "Final_Test" / "GT-final_test.csv")
    shutil.rmtree(work)
    write_sign_names(dest)
