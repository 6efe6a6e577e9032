"""GTSRB for the lessons: find it, read it, split it, serve it as ``tf.data``, and fetch it.

The data is the German Traffic Sign Recognition Benchmark, 43 classes (J. Stallkamp,
M. Schlipsing, J. Salmen, C. Igel, "The German Traffic Sign Recognition Benchmark:
A multi-class classification competition", IJCNN 2011).

Two layouts are read:

- official: ``Final_Training/Images/<class:05d>/`` with ``GT-<class:05d>.csv`` in each class
  folder, and ``Final_Test/Images/`` with ``GT-final_test.csv`` (inside ``Images/``, or beside
  it where the official ground-truth archive unpacks). The csvs are ``;``-separated with the
  columns ``Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId``.
- class folders: ``<root>/train/<class>/`` and optionally ``<root>/test/<class>/``, or
  ``<root>/<class>/`` alone (training images only), holding ``.png``, ``.jpg``, ``.jpeg`` or
  ``.ppm`` files. A ``GT-<class>.csv`` in a class folder, when present, gives the ROIs.

A file named ``<track>_<frame>.<ext>`` belongs to a track: the ~30 frames of one physical sign.

Where the data is (``find_gtsrb``): ``$LRLAB_DATA_DIR`` if set, else ``data/gtsrb-tiny`` under
the project root (the checkout, else the working directory), fetched on first use.
``load_gtsrb()`` without a folder follows this rule; ``list_images``, ``load_arrays`` and
``describe_source`` without one read the same folder but fetch nothing.

``python -m lrlab.data fetch --dest DIR [--subset tiny|small|full] [--source DIR | --archives DIR
| --synthetic] [--seed 0] [--force]`` fills ``DIR`` (see ``fetch``); it never deletes data
lrlab did not write unless ``--force`` says so.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import http.client
import math
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import urllib.request
import uuid
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from glob import escape as glob_escape
from pathlib import Path, PureWindowsPath
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont
from tqdm import tqdm

from lrlab.paths import DATA_DIR_VARIABLE, DEFAULT_DATA_FOLDER, default_data_choice

# The 43 GTSRB class names, by ClassId (the benchmark's signnames.csv).
CLASS_NAMES = (
    "Speed limit (20km/h)",
    "Speed limit (30km/h)",
    "Speed limit (50km/h)",
    "Speed limit (60km/h)",
    "Speed limit (70km/h)",
    "Speed limit (80km/h)",
    "End of speed limit (80km/h)",
    "Speed limit (100km/h)",
    "Speed limit (120km/h)",
    "No passing",
    "No passing for vehicles over 3.5 metric tons",
    "Right-of-way at the next intersection",
    "Priority road",
    "Yield",
    "Stop",
    "No vehicles",
    "Vehicles over 3.5 metric tons prohibited",
    "No entry",
    "General caution",
    "Dangerous curve to the left",
    "Dangerous curve to the right",
    "Double curve",
    "Bumpy road",
    "Slippery road",
    "Road narrows on the right",
    "Road work",
    "Traffic signals",
    "Pedestrians",
    "Children crossing",
    "Bicycles crossing",
    "Beware of ice/snow",
    "Wild animals crossing",
    "End of all speed and passing limits",
    "Turn right ahead",
    "Turn left ahead",
    "Ahead only",
    "Go straight or right",
    "Go straight or left",
    "Keep right",
    "Keep left",
    "Roundabout mandatory",
    "End of no passing",
    "End of no passing by vehicles over 3.5 metric tons",
)
NUM_CLASSES = len(CLASS_NAMES)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".ppm")
GT_COLUMNS = ("Filename", "Width", "Height", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2", "ClassId")
SOURCE_FILE = ".lrlab-source"
COMPLETE_FILE = ".complete"

# The tiny subset: per class, 20 training images spread over the tracks kept for training,
# and 5 test images from held-out tracks (a fifth of the class's tracks, at least one).
TRAIN_PER_CLASS = 20
TEST_PER_CLASS = 5
HELD_OUT_TRACK_FRACTION = 0.2

DOWNLOAD_TIMEOUT_S = 15
_TRACK_NAME = re.compile(r"^(?P<track>\d+)_(?P<frame>\d+)\.\w+$")


@dataclass(frozen=True)
class Archive:
    """An official GTSRB archive: file name, address and MD5."""

    name: str
    url: str
    md5: str


ARCHIVE_BASE_URL = "https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/"
# The training images with their ROI csvs, unpacking to GTSRB/Training/<class:05d>/. The tiny
# subset takes its test images from held-out tracks of this archive, so it is the only one needed.
TRAINING_ARCHIVE = Archive(
    name="GTSRB-Training_fixed.zip",
    url=ARCHIVE_BASE_URL + "GTSRB-Training_fixed.zip",
    md5="513f3c79a4c5141765e10e952eaa2478",
)
# The official test images (unpacking to GTSRB/Final_Test/Images/, with a csv without ClassId)
# and their ground truth (GT-final_test.csv, with ClassId): needed by the full set only.
TEST_IMAGES_ARCHIVE = Archive(
    name="GTSRB_Final_Test_Images.zip",
    url=ARCHIVE_BASE_URL + "GTSRB_Final_Test_Images.zip",
    md5="c7e4e6327067d32654124b0fe9e82185",
)
TEST_GT_ARCHIVE = Archive(
    name="GTSRB_Final_Test_GT.zip",
    url=ARCHIVE_BASE_URL + "GTSRB_Final_Test_GT.zip",
    md5="fe31e9c9270bbcd7b84b7f21a9d9d9e5",
)

# The subsets fetch makes: tiny (the lessons' default), small (for comparisons), full.
SUBSETS = ("tiny", "small", "full")
SMALL_TRAIN_PER_CLASS = 100
SMALL_TEST_PER_CLASS = 30
_PROCESS_START = time.time()


def class_names() -> list[str]:
    """The 43 GTSRB class names, indexed by ClassId."""
    return list(CLASS_NAMES)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class ImageRecord:
    """One image: its file, its ClassId, its ROI and its track.

    ``roi`` is ``(x1, y1, x2, y2)`` from the GT csv (None without one): the sign's box in
    original-image pixels, read as a Pillow crop box, whose right and bottom edges x2, y2 lie
    just outside the sign. Read so, 1068 of the tiny subset's 1075 images have the border the
    GTSRB readme promises (at least 5 pixels) on every side; read with x2, y2 inside the
    sign, 454 would have a 4-pixel border or less on the right or at the bottom.
    ``track`` is the ``<track>`` of a ``<track>_<frame>.<ext>`` name, else None.
    """

    path: Path
    label: int
    roi: tuple[int, int, int, int] | None
    track: str | None


@dataclass(frozen=True)
class _Layout:
    name: str  # "official layout" or "class-folder layout"
    train_folder: Path  # holds the class folders
    test_folder: Path | None
    test_csv: Path | None  # the official layout's GT-final_test.csv, None if it is missing


def _visible_subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


class _NotALayout(ValueError):
    """A folder in no layout lrlab reads; ``reason`` is the short account, without advice."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _reason(error: Exception) -> str:
    return getattr(error, "reason", None) or str(error)


def _fetch_command(dest: Path | str, extra: str = "") -> str:
    return f"`python -m lrlab.data fetch --dest {dest}{extra}`"


def _find_layout(data_dir: Path) -> _Layout:
    if not data_dir.exists():
        raise FileNotFoundError(
            f"GTSRB folder {data_dir} does not exist: fetch the tiny subset with "
            f"{_fetch_command(data_dir)} (add `--source path/to/gtsrb` to copy a local copy), "
            f"or set {DATA_DIR_VARIABLE} to a GTSRB folder"
        )
    if not data_dir.is_dir():
        raise NotADirectoryError(f"GTSRB folder {data_dir} is a file, not a folder")
    official_train = data_dir / "Final_Training" / "Images"
    if official_train.is_dir():
        test_images = data_dir / "Final_Test" / "Images"
        if not test_images.is_dir():
            return _Layout("official layout", official_train, None, None)
        candidates = (test_images / "GT-final_test.csv", test_images.parent / "GT-final_test.csv")
        test_csv = next((p for p in candidates if p.is_file()), None)
        return _Layout("official layout", official_train, test_images, test_csv)
    if (data_dir / "train").is_dir():
        test = data_dir / "test"
        return _Layout(
            "class-folder layout", data_dir / "train", test if test.is_dir() else None, None
        )
    subfolders = _visible_subfolders(data_dir)
    if subfolders and all(p.name.isdigit() for p in subfolders):
        return _Layout("class-folder layout", data_dir, None, None)
    found = ", ".join(sorted(p.name for p in data_dir.iterdir())[:8]) or "nothing"
    raise _NotALayout(
        f"{data_dir} is not in a GTSRB layout lrlab reads (found: {found})",
        f"{data_dir} is not in a GTSRB layout lrlab reads (found: {found}). Expected "
        "Final_Training/Images/<class>/ with GT-<class>.csv (the official layout), "
        "train/<class>/ (class folders), or <class>/ folders named by ClassId. "
        f"Fetch the tiny subset elsewhere with {_fetch_command('data/gtsrb-tiny')}, or set "
        f"{DATA_DIR_VARIABLE} to a GTSRB folder",
    )


def _class_id(text: str, where: str) -> int:
    if not text.strip().isdigit() or int(text) >= NUM_CLASSES:
        raise ValueError(
            f"{where}: the class must be a GTSRB ClassId 0-{NUM_CLASSES - 1}, got {text!r}"
        )
    return int(text)


def _track_of(file_name: str) -> str | None:
    match = _TRACK_NAME.match(file_name)
    return match["track"] if match else None


def _read_gt_csv(csv_path: Path, image_folder: Path) -> list[ImageRecord]:
    """The images listed in a ``;``-separated GT csv, their paths relative to ``image_folder``."""
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle, delimiter=";"))
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{csv_path} is not UTF-8 text ({error}): lrlab reads GT csvs as UTF-8 (the official "
            "csvs are plain ASCII); save it as UTF-8"
        ) from None
    header = tuple(column.strip() for column in rows[0]) if rows else ()
    if header != GT_COLUMNS:
        raise ValueError(
            f"{csv_path} has the header {';'.join(header) or '(empty file)'!r}; expected "
            f"{';'.join(GT_COLUMNS)!r} (';'-separated, as in the official GTSRB archives). "
            "A test csv without ClassId (GT-final_test.test.csv) has no labels: use "
            "GT-final_test.csv from GTSRB_Final_Test_GT.zip"
        )
    records = []
    first_line: dict[str, int] = {}
    for line_number, row in enumerate(rows[1:], start=2):
        if not any(field.strip() for field in row):
            continue
        where = f"{csv_path}, line {line_number}"
        if len(row) != len(GT_COLUMNS):
            raise ValueError(f"{where}: expected {len(GT_COLUMNS)} ';'-separated fields, got {row}")
        try:
            x1, y1, x2, y2 = (int(field) for field in row[3:7])
        except ValueError:
            raise ValueError(f"{where}: the Roi columns must be integers, got {row[3:7]}") from None
        file_name = row[0].strip()
        label = _class_id(row[7], where)
        if file_name in first_line:
            raise ValueError(
                f"{where}: {file_name} is listed twice (also on line {first_line[file_name]}); "
                "a file listed twice could land in both training and validation: remove the "
                "duplicate row"
            )
        first_line[file_name] = line_number
        records.append(
            ImageRecord(image_folder / file_name, label, (x1, y1, x2, y2), _track_of(file_name))
        )
    return records


def _read_class_folders(folder: Path, require_csv: bool) -> list[ImageRecord]:
    """The images of every class folder in ``folder``, from its GT csv when it has one."""
    class_folders = _visible_subfolders(folder)
    if not class_folders:
        raise ValueError(
            f"{folder} has no class folders (<class>/ named by ClassId): add them, or fetch the "
            f"data again with {_fetch_command(folder, ' --force')}"
        )
    records = []
    folder_of: dict[int, Path] = {}
    for class_folder in class_folders:
        label = _class_id(class_folder.name, f"class folder {class_folder}")
        if label in folder_of:
            raise ValueError(
                f"class folders {folder_of[label]} and {class_folder} are both class {label}: "
                "their images would be read as one class and could land in both training and "
                "validation; merge them into one folder"
            )
        folder_of[label] = class_folder
        csv_path = class_folder / f"GT-{class_folder.name}.csv"
        if csv_path.is_file():
            class_records = _read_gt_csv(csv_path, class_folder)
            wrong = [r for r in class_records if r.label != label]
            if wrong:
                raise ValueError(
                    f"{csv_path} gives ClassId {wrong[0].label} to {wrong[0].path.name}, "
                    f"which lies in the folder of class {label}"
                )
        elif require_csv:
            raise FileNotFoundError(
                f"{csv_path} is missing: the official layout has a GT-<class>.csv in every class "
                "folder. Add it, or fetch the data again (`python -m lrlab.data fetch --force`)"
            )
        else:
            class_records = [
                ImageRecord(path, label, None, _track_of(path.name))
                for path in sorted(class_folder.iterdir())
                if path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")
            ]
        if not class_records:
            raise ValueError(
                f"class folder {class_folder} has no images ({', '.join(IMAGE_EXTENSIONS)}"
                f"{' listed in its csv' if csv_path.is_file() else ''}): remove the folder, or "
                "fetch the data again (`python -m lrlab.data fetch --force`)"
            )
        records.extend(class_records)
    return records


def _resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    if data_dir is None:
        return default_data_choice()[0]
    if not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"data_dir must be a path (str or os.PathLike) or None, got {data_dir!r}")
    return Path(data_dir)


def list_images(
    data_dir: str | os.PathLike | None = None, split: str = "train"
) -> list[ImageRecord]:
    """The images of ``split`` ("train" or "test") in ``data_dir``, in either layout.

    The test list is empty when the folder has no test part. ``data_dir`` None means
    ``lrlab.paths.default_data_dir()``.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    layout = _find_layout(_resolve_data_dir(data_dir))
    if split == "train":
        return _read_class_folders(
            layout.train_folder, require_csv=layout.name == "official layout"
        )
    if layout.test_folder is None:
        return []
    if layout.name == "official layout":
        if layout.test_csv is None:
            raise FileNotFoundError(
                f"{layout.test_folder} has no GT-final_test.csv (in it or beside it): unzip "
                f"GTSRB_Final_Test_GT.zip (the csv with ClassId) into {layout.test_folder.parent}, "
                "or fetch the data again (`python -m lrlab.data fetch --force`)"
            )
        records = _read_gt_csv(layout.test_csv, layout.test_folder)
        if not records:
            raise ValueError(
                f"{layout.test_csv} lists no images: add them, or fetch the data again "
                "(`python -m lrlab.data fetch --force`)"
            )
        return records
    return _read_class_folders(layout.test_folder, require_csv=False)


def describe_source(data_dir: str | os.PathLike | None = None) -> str:
    """The one-line description of the data in ``data_dir``.

    It is the first line of ``<data_dir>/.lrlab-source`` (written by ``fetch``); a folder
    without one was not drawn by lrlab and is described as "real GTSRB (<layout>)".
    """
    data_dir = _resolve_data_dir(data_dir)
    source_file = data_dir / SOURCE_FILE
    if source_file.is_file():
        lines = source_file.read_text(encoding="utf-8").strip().splitlines()
        if lines:
            return lines[0].strip()
    return f"real GTSRB ({_find_layout(data_dir).name})"


def _check_integer(name: str, value, minimum: int) -> int:
    """``value`` as an int; a ValueError naming ``name`` unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return int(value)


def _require_rois(records: Sequence[ImageRecord], data_dir: Path) -> None:
    missing = [r.path for r in records if r.roi is None]
    if missing:
        raise ValueError(
            f"crop_roi=True needs the ROI of every image, and {len(missing)} images in {data_dir} "
            f"have none (e.g. {missing[0]}): only folders with GT csvs (the official layout) have "
            "ROIs"
        )


def _as_rgb(image: Image.Image) -> Image.Image:
    """``image`` as 8-bit RGB. Integer modes (``I;16*``, ``I``: 16-bit PNG or PPM) are scaled
    from 0-65535 to 0-255 (value / 257, rounded) instead of being clipped to white."""
    if image.mode.startswith("I;16") or image.mode == "I":
        wide = np.asarray(image).astype(np.float64)
        grey = np.clip(np.round(wide / 257.0), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    return image.convert("RGB")


def _decode(record: ImageRecord, image_size: int, crop_roi: bool) -> np.ndarray:
    """One image as uint8 (image_size, image_size, 3): RGB, cropped to its ROI if asked, resized."""
    try:
        with Image.open(record.path) as opened:
            image = _as_rgb(opened)
    except (OSError, Image.DecompressionBombError) as error:  # missing, undecodable, too large
        raise ValueError(
            f"cannot read image {record.path} ({error}): replace the file or fetch the data again "
            "(`python -m lrlab.data fetch --force ...`)"
        ) from error
    if crop_roi:
        x1, y1, x2, y2 = record.roi
        width, height = image.size
        box = (max(x1, 0), max(y1, 0), min(x2, width), min(y2, height))
        if box[0] >= box[2] or box[1] >= box[3]:
            raise ValueError(
                f"{record.path}: ROI {record.roi} is empty or outside the {width}x{height} image"
            )
        image = image.crop(box)
    image = image.resize((image_size, image_size), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


def decode_images(
    records: Sequence[ImageRecord], image_size: int = 32, crop_roi: bool = False
) -> np.ndarray:
    """The images of ``records``, float32 ``(n, image_size, image_size, 3)``: pixel / 255."""
    image_size = _check_integer("image_size", image_size, minimum=1)
    pixels = np.empty((len(records), image_size, image_size, 3), dtype=np.uint8)
    for index, record in enumerate(records):
        pixels[index] = _decode(record, image_size, crop_roi)
    return pixels.astype(np.float32) / np.float32(255)


def load_arrays(
    data_dir: str | os.PathLike | None = None,
    split: str = "train",
    image_size: int = 32,
    crop_roi: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """All images of ``split`` ("train" or "test") as numpy arrays ``(x, y)``.

    ``x`` is float32 ``(n, image_size, image_size, 3)`` in [0, 1]; ``y`` the int32 ClassIds.
    "train" is the whole training folder (before any validation split).
    """
    image_size = _check_integer("image_size", image_size, minimum=1)
    data_dir = _resolve_data_dir(data_dir)
    records = list_images(data_dir, split)
    if not records:
        raise ValueError(f"{data_dir} has no test images (no Final_Test/Images/ or test/ folder)")
    if crop_roi:
        _require_rois(records, data_dir)
    labels = np.array([r.label for r in records], dtype=np.int32)
    return decode_images(records, image_size, crop_roi), labels


# --------------------------------------------------------------------------- the data-location rule


def _rule_text(rule: str) -> str:
    return "the default folder" if rule == "default" else rule


def _locate(fetch_missing: bool) -> tuple[Path, str]:
    """``find_gtsrb``'s folder and the rule that chose it ("default" or "LRLAB_DATA_DIR")."""
    folder, rule = default_data_choice()
    where = f"{folder} ({_rule_text(rule)})"
    if not folder.exists() and not folder.is_symlink():
        if not fetch_missing:
            raise FileNotFoundError(
                f"no GTSRB folder at {where}: fetch the tiny subset with "
                f"{_fetch_command(folder)}, or set {DATA_DIR_VARIABLE} to a GTSRB folder"
            )
        print(f"No GTSRB data at {where} yet: fetching the tiny subset into it.")
        fetch(folder)
        return folder, rule
    if folder.is_dir() and (folder / COMPLETE_FILE).is_file():
        return folder, rule
    if folder.is_dir() and not any(folder.iterdir()):
        if not fetch_missing:
            raise FileNotFoundError(
                f"the GTSRB folder {where} is empty: fetch the tiny subset into it with "
                f"{_fetch_command(folder)}, or set {DATA_DIR_VARIABLE} to a GTSRB folder"
            )
        print(f"The GTSRB folder {where} is empty: fetching the tiny subset into it.")
        fetch(folder)
        return folder, rule
    try:
        _find_layout(folder)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"{where} holds no GTSRB data lrlab reads ({_reason(error)}): move it away and run "
            f"{_fetch_command(folder)}, or set {DATA_DIR_VARIABLE} to a GTSRB folder"
        ) from None
    return folder, rule


def find_gtsrb(fetch: bool = True) -> Path:
    """The GTSRB folder of the data-location rule, fetched when missing.

    The rule: ``$LRLAB_DATA_DIR`` if set, else ``<project root>/data/gtsrb-tiny`` (the project
    root is the checkout, else the working directory: on Colab, /content). A folder that
    does not exist (or is empty) is filled with ``lrlab.data.fetch(folder)`` when ``fetch``
    (the tiny subset: downloaded, else the SYNTHETIC stand-in), saying so; with
    ``fetch=False`` it is a FileNotFoundError. A folder fetched by lrlab (``.complete``) is
    returned as it is; any other folder must be in a layout lrlab reads (data uploaded by
    hand is used as it is, never rewritten or deleted), else a ValueError says what was
    found and what to do.
    """
    if not isinstance(fetch, bool):
        raise TypeError(f"fetch must be True or False, got {fetch!r}")
    return _locate(fetch_missing=fetch)[0]


# --------------------------------------------------------------------------- splitting


def split_train_validation(
    labels: Sequence[int],
    validation_split: float = 0.2,
    seed: int = 0,
    tracks: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted indices ``(train, validation)`` of a seeded split stratified by class.

    For a class with ``n`` images the target is ``validation_split * n`` validation images,
    rounded half up, at most ``n - 1``. Without ``tracks`` they are drawn at random. With ``tracks``
    (one id per image; ids are compared within a class) whole tracks move: the class's tracks
    are shuffled and each joins validation when that brings the count closer to the target,
    keeping at least one track for training, so no track is on both sides.
    """
    labels = np.asarray(labels)
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)):
        raise TypeError(
            "validation_split must be a number in [0, 1) (e.g. 0.2), got "
            f"{validation_split!r} ({type(validation_split).__name__})"
        )
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    if tracks is not None and len(tracks) != len(labels):
        raise ValueError(f"tracks has {len(tracks)} entries for {len(labels)} labels")
    rng = np.random.default_rng(seed)
    validation: list[int] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        target = min(math.floor(validation_split * len(members) + 0.5), len(members) - 1)
        if tracks is None:
            validation.extend(rng.permutation(members)[:target])
            continue
        by_track: dict[str, list[int]] = defaultdict(list)
        for index in members:
            by_track[tracks[index]].append(int(index))
        names = sorted(by_track)
        chosen: list[int] = []
        for position in rng.permutation(len(names)):
            if len(chosen) + len(by_track[names[position]]) >= len(members):
                continue  # keep at least one track for training
            size = len(by_track[names[position]])
            if abs(len(chosen) + size - target) < abs(len(chosen) - target):
                chosen.extend(by_track[names[position]])
        validation.extend(chosen)
    validation_indices = np.sort(np.array(validation, dtype=np.int64))
    train_indices = np.setdiff1d(np.arange(len(labels)), validation_indices)
    return train_indices, validation_indices


# --------------------------------------------------------------------------- tf.data


@dataclass
class GTSRBData:
    """What ``load_gtsrb`` returns: the three batched datasets, their sizes and the provenance.

    ``data_rule`` says which rule chose ``data_dir``: ``"default"`` (the default folder
    ``data/gtsrb-tiny`` under the project root), ``"LRLAB_DATA_DIR"`` (that variable), or
    ``"argument"`` (the ``data_dir`` given to ``load_gtsrb``).
    """

    train: Any
    validation: Any
    test: Any
    num_train: int
    num_validation: int
    num_test: int
    num_classes: int
    class_names: list[str]
    data_dir: Path
    source: str
    image_size: int
    crop_roi: bool
    group_by_track: bool
    data_rule: str = "argument"

    def location(self) -> str:
        """Where the data is and which rule chose it, e.g. ``data/gtsrb-tiny (the default
        folder)``; the default folder is named relative to the project root, so the text is
        the same on every machine."""
        if self.data_rule == "default":
            return f"{DEFAULT_DATA_FOLDER.as_posix()} (the default folder)"
        if self.data_rule == DATA_DIR_VARIABLE:
            return f"{self.data_dir} ({DATA_DIR_VARIABLE})"
        return str(self.data_dir)

    def summary(self) -> str:
        """One line for a notebook: which data, where, images per split, image size, classes.

        ``Data: <source> in <location()>: <n> train / <n> validation / <n> test images,
        <size>x<size>, <n> classes[, cropped to the ROI][, validation split by track]``.
        """
        split = ""
        if self.num_validation:
            split = ", validation split by track" if self.group_by_track else (
                ", validation split image by image"
            )
        extras = (", cropped to the ROI" if self.crop_roi else "") + split
        return (
            f"Data: {self.source} in {self.location()}: {self.num_train} train / "
            f"{self.num_validation} validation / "
            f"{self.num_test} test images, {self.image_size}x{self.image_size}, "
            f"{self.num_classes} classes{extras}"
        )


def _pipeline(images: np.ndarray, labels: np.ndarray, batch_size: int, cache: bool, shuffle_seed):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if cache:
        dataset = dataset.cache()
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(images), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def load_gtsrb(
    data_dir: str | os.PathLike | None = None,
    image_size: int = 32,
    batch_size: int = 32,
    validation_split: float = 0.2,
    seed: int = 0,
    crop_roi: bool = False,
    group_by_track: bool | None = None,
    cache: bool = True,
) -> GTSRBData:
    """GTSRB as batched ``tf.data`` datasets of (float32 image in [0, 1], int32 ClassId).

    Every image is decoded once into memory (resized to ``image_size`` square, cropped to its
    ROI first when ``crop_roi``). The training folder is split by ``split_train_validation``
    (stratified, seeded). By default (``group_by_track=None``) whole tracks move, so that no
    physical sign is in both training and validation, whenever every training file is named
    ``<track>_<frame>.<ext>`` (GTSRB's own names); where some are not, it prints a note and
    splits image by image. ``True`` requires tracks (a ValueError where names lack them);
    ``False`` always splits image by image (frames of one sign then land on both sides and
    validation accuracy reads too high). ``train`` is reshuffled at
    every pass by a shuffle seeded with ``seed``: its n-th pass (the n-th epoch of a first
    ``fit``) has the same order on every run. ``validation`` and ``test`` keep file order;
    ``validation`` is None when ``validation_split`` is 0, ``test`` when there is no test part.
    ``data_dir`` None means ``find_gtsrb()``: ``$LRLAB_DATA_DIR``, else the default folder,
    fetched on first use.
    """
    image_size = _check_integer("image_size", image_size, minimum=1)
    batch_size = _check_integer("batch_size", batch_size, minimum=1)
    seed = _check_integer("seed", seed, minimum=0)
    if data_dir is None:
        data_dir, data_rule = _locate(fetch_missing=True)
    else:
        data_dir, data_rule = _resolve_data_dir(data_dir), "argument"
    train_records = list_images(data_dir, "train")
    test_records = list_images(data_dir, "test")
    if crop_roi:
        _require_rois(train_records + test_records, data_dir)
    if group_by_track not in (None, True, False):
        raise TypeError(f"group_by_track must be None, True or False, got {group_by_track!r}")
    tracks = None
    if group_by_track is not False:
        unnamed = [r.path.name for r in train_records if r.track is None]
        if unnamed and group_by_track:
            raise ValueError(
                f"group_by_track=True needs training files named <track>_<frame>.<ext>, and "
                f"{len(unnamed)} in {data_dir} are not (e.g. {unnamed[0]!r})"
            )
        if unnamed:
            print(
                f"Note: {len(unnamed)} training files in {data_dir} are not named "
                f"<track>_<frame>.<ext> (e.g. {unnamed[0]!r}), so validation is split image by "
                "image, not by track: frames of one sign may be on both sides."
            )
        else:
            tracks = [r.track for r in train_records]
    labels = np.array([r.label for r in train_records], dtype=np.int32)
    train_indices, validation_indices = split_train_validation(
        labels, validation_split, seed, tracks
    )
    images = decode_images(train_records, image_size, crop_roi)

    train = _pipeline(images[train_indices], labels[train_indices], batch_size, cache, seed)
    validation = None
    if len(validation_indices):
        validation = _pipeline(
            images[validation_indices], labels[validation_indices], batch_size, cache, None
        )
    test = None
    if test_records:
        test_labels = np.array([r.label for r in test_records], dtype=np.int32)
        test_images = decode_images(test_records, image_size, crop_roi)
        test = _pipeline(test_images, test_labels, batch_size, cache, None)
    return GTSRBData(
        train=train,
        validation=validation,
        test=test,
        num_train=len(train_indices),
        num_validation=len(validation_indices),
        num_test=len(test_records),
        num_classes=len(np.unique(labels)),
        class_names=class_names(),
        data_dir=data_dir,
        source=describe_source(data_dir),
        image_size=image_size,
        crop_roi=bool(crop_roi),
        group_by_track=tracks is not None,
        data_rule=data_rule,
    )


# --------------------------------------------------------------------------- download


class DownloadError(RuntimeError):
    """A download that failed: no network, an HTTP error, or a wrong checksum."""


def md5sum(path: str | os.PathLike) -> str:
    """The MD5 hex digest of a file (read in 1 MiB blocks)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def download(
    url: str, target: str | os.PathLike, md5: str, timeout: float = DOWNLOAD_TIMEOUT_S
) -> Path:
    """Stream ``url`` to ``target`` with a progress bar and check its MD5; return ``target``.

    The bytes go to a temporary file ``.<name>.<random>.part`` beside ``target``, renamed to
    ``target`` only when complete and verified; a wrong checksum deletes them and raises
    ``DownloadError``. A ``target`` already there with the right MD5 is kept (MD5s compare
    case-insensitively). ``.part`` files of ``target`` left by a killed run (not locked by a
    running process, and older than this one) are removed first. ``timeout`` (seconds)
    bounds each network wait, so an offline machine fails fast.
    """
    target = Path(target)
    md5 = md5.strip().lower()
    if target.is_file() and md5sum(target) == md5:
        return target
    new_folder = not target.parent.exists()
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_parts(target)
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    _lock(handle)  # tells a later run that this .part is in use
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    total = int(response.headers.get("Content-Length") or 0) or None
                    with tqdm(total=total, unit="B", unit_scale=True, desc=target.name) as progress:
                        while chunk := response.read(1 << 20):
                            out.write(chunk)
                            digest.update(chunk)
                            progress.update(len(chunk))
            except (OSError, http.client.HTTPException) as error:
                raise DownloadError(f"could not download {url}: {error}") from error
        if digest.hexdigest() != md5:
            raise DownloadError(
                f"checksum mismatch for {url}: expected MD5 {md5}, got {digest.hexdigest()}; "
                "the downloaded file was deleted"
            )
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
            if new_folder and not any(target.parent.iterdir()):
                target.parent.rmdir()
    return target


def _lock(handle: int) -> None:
    """Hold an exclusive ``flock`` on the open file or folder ``handle`` (POSIX; a no-op
    elsewhere). The lock goes with the process, even a killed one."""
    try:
        import fcntl
    except ImportError:  # Windows: staleness is judged by age alone
        return
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _is_stale(path: Path) -> bool:
    """True for a leftover of an earlier run: older than this process and, where ``flock``
    exists, locked by no running process."""
    try:
        if path.lstat().st_mtime >= _PROCESS_START:
            return False
        if os.name != "posix":
            return True
        handle = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        import fcntl
    except ImportError:
        os.close(handle)
        return True
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # a running fetch holds it
    finally:
        os.close(handle)
    return True


def _remove_stale_parts(target: Path) -> None:
    """Remove the stale ``.<target name>.<random>.part`` files of ``download``."""
    if not target.parent.is_dir():
        return
    for part in target.parent.glob(f".{glob_escape(target.name)}.*.part"):
        if part.is_file() and not part.is_symlink() and _is_stale(part):
            print(f"removing {part}, left by an interrupted download")
            part.unlink(missing_ok=True)


def _open_zip(archive_path: str | os.PathLike) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive_path)
    except zipfile.BadZipFile as error:
        raise ValueError(
            f"{archive_path} is not a zip archive ({error}): delete it and fetch again, or give "
            "the official GTSRB archive"
        ) from None


def _lands_inside(member: str) -> bool:
    """False for an archive member with an absolute path, a drive, or a '..' part."""
    if member.startswith(("/", "\\")) or PureWindowsPath(member).drive:
        return False
    return ".." not in re.split(r"[\\/]", member)


def safe_extract(
    archive_path: str | os.PathLike, target: str | os.PathLike, members: Sequence[str] | None = None
) -> None:
    """Extract ``members`` (default: all) of a zip archive into ``target``.

    Every member name of the archive is checked first: one that would land outside
    ``target`` (an absolute path, a drive, a '..' part: "zip slip") makes the whole archive
    refused with a ``ValueError``, before anything is written. A file that is not a zip
    archive is a ``ValueError`` naming it.
    """
    with _open_zip(archive_path) as archive:
        unsafe = [name for name in archive.namelist() if not _lands_inside(name)]
        if unsafe:
            raise ValueError(
                f"refusing to extract {archive_path}: {len(unsafe)} member(s) would land outside "
                f"{target} (absolute paths or '..'), e.g. {unsafe[0]!r}; nothing was extracted"
            )
        Path(target).mkdir(parents=True, exist_ok=True)
        archive.extractall(target, members=members)


# --------------------------------------------------------------------------- writing a subset


@dataclass(frozen=True)
class _Sample:
    """An image to write into the official layout; ``write(path)`` puts its bytes there."""

    label: int
    name: str  # <track>_<frame>.<ext>
    size: tuple[int, int]
    roi: tuple[int, int, int, int]
    write: Callable[[Path], Any]


def _write_gt_csv(path: Path, rows: list[tuple]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")  # as the official csvs
        writer.writerow(GT_COLUMNS)
        writer.writerows(rows)


def _write_official_layout(
    dest: Path, train: list[_Sample], test: list[_Sample], seed: int
) -> None:
    """Training samples into class folders with csvs; test samples numbered in seeded order."""
    by_class: dict[int, list[_Sample]] = defaultdict(list)
    for sample in train:
        by_class[sample.label].append(sample)
    for label, samples in sorted(by_class.items()):
        folder = dest / "Final_Training" / "Images" / f"{label:05d}"
        folder.mkdir(parents=True)
        for sample in samples:
            sample.write(folder / sample.name)
        rows = [(s.name, *s.size, *s.roi, s.label) for s in samples]
        _write_gt_csv(folder / f"GT-{label:05d}.csv", rows)
    test_folder = dest / "Final_Test" / "Images"
    test_folder.mkdir(parents=True)
    rows = []
    for number, index in enumerate(np.random.default_rng(seed).permutation(len(test))):
        sample = test[index]
        name = f"{number:05d}{Path(sample.name).suffix}"
        sample.write(test_folder / name)
        rows.append((name, *sample.size, *sample.roi, sample.label))
    _write_gt_csv(dest / "Final_Test" / "GT-final_test.csv", rows)
    _write_sign_names(dest)


def _write_sign_names(dest: Path) -> None:
    with open(dest / "signnames.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("ClassId", "SignName"))
        writer.writerows(enumerate(CLASS_NAMES))


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


def _copied_sample(record: ImageRecord) -> _Sample:
    try:
        with Image.open(record.path) as image:
            image.load()  # decode it all: a truncated file fails here, named as the source's
            size = image.size
    except (OSError, Image.DecompressionBombError) as error:
        raise ValueError(f"cannot read image {record.path} ({error})") from error
    return _Sample(
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
                try:
                    with Image.open(record.path) as opened:
                        image = _as_rgb(opened)
                except (OSError, Image.DecompressionBombError) as error:
                    raise ValueError(f"cannot read image {record.path} ({error})") from error
                image.save(folder / name, "PNG")
                if record.roi is not None:
                    rows.append((name, *image.size, *record.roi, label))
            if len(rows) == len(members):
                _write_gt_csv(folder / f"GT-{label:05d}.csv", rows)
    _write_sign_names(dest)


def _training_records(archive: Path, work: Path) -> list[ImageRecord]:
    """The images of the official training archive, from its csvs extracted into ``work``."""
    with _open_zip(archive) as opened:
        names = opened.namelist()
    csv_members = [n for n in names if re.search(r"(^|/)GT-\d{5}\.csv$", n)]
    if not csv_members:
        raise ValueError(
            f"{archive} has no GT-<class>.csv files: it is not the GTSRB training archive"
        )
    safe_extract(archive, work, csv_members)
    return _read_class_folders((work / csv_members[0]).parent.parent, require_csv=True)


def _write_subset(
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
        _write_official_layout(
            dest, [_copied_sample(r) for r in train], [_copied_sample(r) for r in test], seed
        )
    else:
        _write_class_folder_layout(dest, train, test)


def _subset_from_training_archive(archive: Path, dest: Path, seed: int, subset: str) -> None:
    """Write the ``subset`` of the official training archive into ``dest``."""
    work = dest / ".unpacked"  # inside the folder being built: it goes with it
    records = _training_records(archive, work)

    def extract(chosen: Sequence[ImageRecord]) -> None:
        safe_extract(archive, work, sorted(r.path.relative_to(work).as_posix() for r in chosen))

    _write_subset(records, subset, dest, seed, extract)
    shutil.rmtree(work)


def _single_folder_of(archive: Path, work: Path, pattern: str, what: str) -> Path:
    """Extract ``archive`` into ``work``; the folder of its members matching ``pattern``."""
    with _open_zip(archive) as opened:
        names = [n for n in opened.namelist() if re.search(pattern, n)]
    folders = {str(Path(n).parent) for n in names}
    if len(folders) != 1:
        raise ValueError(f"{archive} does not hold {what}: it is not the official GTSRB archive")
    safe_extract(archive, work)
    return work / folders.pop()


def _full_from_archives(training: Path, test_images: Path, test_gt: Path, dest: Path) -> None:
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
    _write_sign_names(dest)


# --------------------------------------------------------------------------- synthetic stand-in

_WHITE, _RED, _BLUE = (245, 245, 245), (200, 30, 35), (25, 80, 170)
_YELLOW, _BLACK, _GREY = (250, 200, 20), (20, 20, 20), (120, 120, 120)
# style: (shape, fill, border, glyph colour), after the sign families of the real classes
_STYLES = {
    "prohibitory": ("circle", _WHITE, _RED, _BLACK),
    "end": ("circle", _WHITE, _GREY, _GREY),  # with a diagonal stroke
    "mandatory": ("circle", _BLUE, _WHITE, _WHITE),
    "warning": ("triangle", _WHITE, _RED, _BLACK),
    "priority": ("diamond", _YELLOW, _WHITE, _BLACK),
    "yield": ("inverted triangle", _WHITE, _RED, _BLACK),
    "stop": ("octagon", _RED, _WHITE, _WHITE),
    "no entry": ("circle", _RED, _RED, _WHITE),  # with a white bar
}
# (style, glyph) per ClassId; style and glyph together are different for every class
_SYNTHETIC_SIGNS = (
    ("prohibitory", "20"), ("prohibitory", "30"), ("prohibitory", "50"), ("prohibitory", "60"),
    ("prohibitory", "70"), ("prohibitory", "80"), ("end", "80"), ("prohibitory", "100"),
    ("prohibitory", "120"), ("prohibitory", "PP"), ("prohibitory", "PT"), ("warning", "X"),
    ("priority", ""), ("yield", ""), ("stop", "STOP"), ("prohibitory", ""),
    ("prohibitory", "T"), ("no entry", ""), ("warning", "!"), ("warning", "<"),
    ("warning", ">"), ("warning", "S"), ("warning", "n"), ("warning", "~"),
    ("warning", "|)"), ("warning", "W"), ("warning", "8"), ("warning", "i"),
    ("warning", "ii"), ("warning", "o-o"), ("warning", "*"), ("warning", "Y"),
    ("end", ""), ("mandatory", ">"), ("mandatory", "<"), ("mandatory", "^"),
    ("mandatory", "^>"), ("mandatory", "<^"), ("mandatory", "\\"), ("mandatory", "/"),
    ("mandatory", "@"), ("end", "PP"), ("end", "PT"),
)  # fmt: skip
_TEMPLATE_SIZE = 96
_SYNTHETIC_TRAIN_TRACKS, _SYNTHETIC_TEST_TRACKS = 5, TEST_PER_CLASS
_FRAMES_PER_TRACK = 30
_SYNTHETIC_TRAIN_FRAMES = (0, 10, 20, 29)  # 5 tracks x 4 frames = TRAIN_PER_CLASS images


def _shape_points(
    shape: str, radius: float, centre: tuple[float, float]
) -> list[tuple[float, float]]:
    corners, start_degrees = {
        "triangle": (3, -90),
        "inverted triangle": (3, 90),
        "diamond": (4, -90),
        "octagon": (8, 22.5),
    }[shape]
    angles = np.radians(start_degrees + 360 / corners * np.arange(corners))
    return [(centre[0] + radius * np.cos(a), centre[1] + radius * np.sin(a)) for a in angles]


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, radius: float, colour) -> None:
    middle = _TEMPLATE_SIZE / 2
    if shape == "circle":
        draw.ellipse(
            (middle - radius, middle - radius, middle + radius, middle + radius), fill=colour
        )
        return
    # a triangle's circumcentre is shifted so that the triangle is centred vertically
    shift = {"triangle": 0.25, "inverted triangle": -0.25}.get(shape, 0.0) * _TEMPLATE_SIZE / 2
    draw.polygon(_shape_points(shape, radius, (middle, middle + shift)), fill=colour)


def _sign_template(label: int) -> Image.Image:
    """The sign of class ``label``, drawn on a transparent ``_TEMPLATE_SIZE`` square."""
    style, glyph = _SYNTHETIC_SIGNS[label]
    shape, fill, border, ink = _STYLES[style]
    size = _TEMPLATE_SIZE
    sign = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(sign)
    outer = size / 2 - 1
    inner_scale = {"circle": 0.82, "diamond": 0.8, "octagon": 0.9}.get(shape, 0.62)
    _draw_shape(draw, shape, outer, border)
    _draw_shape(draw, shape, outer * inner_scale, fill)
    if style == "end":
        draw.line(
            [(0.27 * size, 0.73 * size), (0.73 * size, 0.27 * size)], fill=_BLACK, width=size // 14
        )
    if style == "no entry":
        draw.rectangle((0.2 * size, 0.42 * size, 0.8 * size, 0.58 * size), fill=_WHITE)
    if glyph:
        mask = Image.new("L", (64 * len(glyph) + 32, 96))
        ImageDraw.Draw(mask).text((8, 8), glyph, fill=255, font=ImageFont.load_default(size=64))
        mask = mask.crop(mask.getbbox())
        box_width, box_height = 0.5 * size, (0.28 if "triangle" in shape else 0.38) * size
        scale = min(box_width / mask.width, box_height / mask.height)
        mask = mask.resize((max(1, round(mask.width * scale)), max(1, round(mask.height * scale))))
        top = round((0.6 if shape == "triangle" else 0.5) * size - mask.height / 2)
        sign.paste(Image.new("RGBA", mask.size, ink), ((size - mask.width) // 2, top), mask)
    return sign


def _synthetic_track(
    template: Image.Image, label: int, track: int, frames: Sequence[int], seed: int
):
    """Frames of one synthetic track: the sign nearing the camera over one background.

    Yields ``(frame, image, roi)``. The image side grows from about 30 to 50-100 pixels over
    the track; scale, rotation, brightness, blur and background are random per track, with a
    little jitter per frame.
    """
    rng = np.random.default_rng([seed, label, track])
    first_side, last_side = rng.uniform(26, 40), rng.uniform(50, 100)
    angle, brightness, blur = rng.uniform(-12, 12), rng.uniform(0.45, 1.3), rng.uniform(0.0, 1.0)
    colours = rng.integers(0, 256, size=(2, 3))
    for frame in frames:
        side = round(first_side + (last_side - first_side) * frame / (_FRAMES_PER_TRACK - 1))
        sign_side = max(8, round(side * rng.uniform(0.76, 0.84)))
        sign = template.resize((sign_side, sign_side), Image.Resampling.LANCZOS)
        sign = sign.rotate(angle + rng.normal(0, 1.5), resample=Image.Resampling.BILINEAR)
        gradient = np.linspace(0, 1, side)[:, None, None]
        background = (1 - gradient) * colours[0] + gradient * colours[1]
        background = background + rng.normal(0, 10, size=(side, side, 3))
        image = Image.fromarray(np.clip(background, 0, 255).astype(np.uint8), "RGB")
        jitter = max(1, side // 20)
        left, top = ((side - sign_side) // 2 + rng.integers(-jitter, jitter + 1) for _ in range(2))
        image.paste(sign, (int(left), int(top)), sign)
        x1, y1, x2, y2 = sign.getchannel("A").getbbox()
        roi = (max(0, left + x1), max(0, top + y1), min(side, left + x2), min(side, top + y2))
        image = ImageEnhance.Brightness(image).enhance(brightness * rng.uniform(0.95, 1.05))
        image = image.filter(ImageFilter.GaussianBlur(blur))
        yield frame, image, tuple(int(v) for v in roi)


def _drawn_sample(label: int, track: int, frame: int, image: Image.Image, roi) -> _Sample:
    return _Sample(
        label, f"{track:05d}_{frame:05d}.ppm", image.size, roi, lambda path: image.save(path, "PPM")
    )


def draw_synthetic_gtsrb(dest: str | os.PathLike, seed: int = 0) -> Path:
    """Write a SYNTHETIC stand-in for the tiny subset into ``dest`` (official layout).

    Per class: its sign (shape, colours and glyph after the real sign family), drawn with
    Pillow over random backgrounds; 5 tracks of 4 frames for training (20 images) and one
    frame of 5 other tracks for test. Seeded: the same seed draws the same images. The images
    only stand in for GTSRB so the code runs end to end; results on them are not GTSRB results.
    """
    dest = Path(dest)
    train, test = [], []
    for label in range(NUM_CLASSES):
        template = _sign_template(label)
        for track in range(_SYNTHETIC_TRAIN_TRACKS):
            for frame, image, roi in _synthetic_track(
                template, label, track, _SYNTHETIC_TRAIN_FRAMES, seed
            ):
                train.append(_drawn_sample(label, track, frame, image, roi))
        for track in range(
            _SYNTHETIC_TRAIN_TRACKS, _SYNTHETIC_TRAIN_TRACKS + _SYNTHETIC_TEST_TRACKS
        ):
            frame = int(np.random.default_rng([seed, label, track, 1]).integers(_FRAMES_PER_TRACK))
            for _, image, roi in _synthetic_track(template, label, track, [frame], seed):
                test.append(_drawn_sample(label, track, frame, image, roi))
    _write_official_layout(dest, train, test, seed)
    (dest / "README.md").write_text(
        "# SYNTHETIC stand-in for the GTSRB tiny subset\n\n"
        "Drawn with Pillow by `python -m lrlab.data fetch` because no GTSRB copy or download was\n"
        "available. Same layout and counts as the real subset, but these are not GTSRB images:\n"
        "numbers computed on them are not GTSRB results. For the real data:\n"
        "`python -m lrlab.data fetch --dest <this folder> --force` with network access,\n"
        "or with --source path/to/gtsrb.\n",
        encoding="utf-8",
    )
    return dest


# --------------------------------------------------------------------------- fetch


def _synthetic_description(seed: int, reason: str) -> str:
    return (
        f"SYNTHETIC stand-in drawn with Pillow, seed {seed} ({reason}) — "
        "numbers are not GTSRB results"
    )


def _copy_folder(source: Path, dest: Path) -> None:
    """Copy the files of ``source`` into ``dest`` (not their permissions), except the markers."""
    for folder, _, files in os.walk(source):
        relative = Path(folder).relative_to(source)
        (dest / relative).mkdir(parents=True, exist_ok=True)
        for name in files:
            if relative == Path(".") and name in (SOURCE_FILE, COMPLETE_FILE):
                continue
            shutil.copyfile(Path(folder) / name, dest / relative / name)


def _partial_name(dest: Path) -> re.Pattern:
    return re.compile(rf"^\.{re.escape(dest.name)}\.[0-9a-f]{{8}}\.(partial|old)$")


def _remove_stale(dest: Path) -> None:
    """Remove what a killed fetch of ``dest`` left: its ``.<dest>.<hex>.partial`` build
    folders, a ``.<dest>.<hex>.old`` folder (the previous ``dest``: put back when ``dest`` is
    missing) and ``.part`` files of the official archives in ``<parent>/downloads``. Only
    those names, and only stale ones (see ``_is_stale``)."""
    if dest.parent.is_dir():
        pattern = _partial_name(dest)
        for left in sorted(dest.parent.iterdir()):
            if not pattern.match(left.name) or left.is_symlink() or not left.is_dir():
                continue
            if not _is_stale(left):
                continue
            if left.name.endswith(".old") and not dest.exists() and not dest.is_symlink():
                print(f"putting back {dest} from {left}, left by an interrupted fetch")
                os.replace(left, dest)
            else:
                print(f"removing {left}, left by an interrupted fetch")
                shutil.rmtree(left)
    for archive in (TRAINING_ARCHIVE, TEST_IMAGES_ARCHIVE, TEST_GT_ARCHIVE):
        _remove_stale_parts(dest.parent / "downloads" / archive.name)


def _replace_folder(built: Path, dest: Path) -> None:
    """Move ``built`` to ``dest`` by renames; an old ``dest`` goes once ``built`` is in place."""
    if not dest.exists():
        os.replace(built, dest)
        return
    if dest.is_dir() and not any(dest.iterdir()):
        os.replace(built, dest)  # onto an empty folder
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


def validate_gtsrb(folder: str | os.PathLike, decode_all: bool = False) -> str:
    """Check that ``folder`` holds GTSRB data lrlab reads; return a one-line account of it.

    The layout must be one ``list_images`` reads, with at least one training image, every
    listed image must exist, and the first training image (and the first test image, if
    any) must decode; with ``decode_all`` every listed image must decode (``fetch`` does this
    before marking a folder complete; measured on CPU: 0.07 ms per small ppm, 0.3 ms per png,
    so about 5 s for the full set's 52k ppm images, well under a minute). Raises ValueError or
    FileNotFoundError naming what is wrong.
    """
    folder = _resolve_data_dir(folder)
    layout = _find_layout(folder)
    train, test = list_images(folder, "train"), list_images(folder, "test")
    missing = [r.path for r in train + test if not r.path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} listed image(s) of {folder} are missing, e.g. {missing[0]}"
        )
    if not decode_all:
        for record in train[:1] + test[:1]:
            _decode(record, 8, crop_roi=False)
    for record in train + test if decode_all else ():
        try:
            with Image.open(record.path) as opened:
                opened.load()
        except (OSError, Image.DecompressionBombError) as error:
            raise ValueError(f"cannot decode image {record.path} ({error})") from None
    return f"{layout.name}, {len(train)} training and {len(test)} test images"


def _check_apart(dest: Path, other: Path, option: str) -> None:
    here, there = dest.resolve(), other.resolve()
    if here == there or here in there.parents or there in here.parents:
        raise ValueError(
            f"--dest {dest} and {option} {other} overlap (one is or holds the other): filling or "
            f"replacing --dest could destroy {option}. Give a --dest outside it"
        )


def _path_argument(name: str, value) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {value!r}")
    return Path(value)


def _archive_file(archive: Archive, archives: Path | None, downloads: Path) -> Path:
    """``archive`` from the folder ``archives`` (MD5-checked), else downloaded to ``downloads``."""
    if archives is None:
        return download(archive.url, downloads / archive.name, archive.md5)
    path = archives / archive.name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: --archives must hold the official {archive.name} "
            f"(from {archive.url})"
        )
    found = md5sum(path)
    if found != archive.md5.strip().lower():
        raise ValueError(
            f"{path} has MD5 {found}, expected {archive.md5}: it is not the official "
            f"{archive.name} (or it is damaged); download it again from {archive.url}"
        )
    return path


def _build(
    built: Path,
    subset: str | None,
    source: Path | None,
    archives: Path | None,
    synthetic: bool,
    seed: int,
    downloads: Path,
) -> str:
    """Fill the empty folder ``built``; return the description line of what it holds."""
    if source is not None:
        if subset in (None, "full"):
            _copy_folder(source, built)
            print(f"copied {source}")
            return describe_source(source)
        _write_subset(list_images(source, "train"), subset, built, seed)
        return f"{describe_source(source)}, {subset} subset (seed {seed})"
    if synthetic:
        draw_synthetic_gtsrb(built, seed)
        return _synthetic_description(seed, "asked for with --synthetic")
    subset = subset or "tiny"
    try:
        training = _archive_file(TRAINING_ARCHIVE, archives, downloads)
    except DownloadError as error:
        if subset != "tiny":
            raise DownloadError(
                f"{error}. The {subset} set needs the official archives: fetch again with network "
                "access, or give --archives DIR holding them"
            ) from None
        print(
            f"GTSRB download failed: {error}. Drawing a SYNTHETIC stand-in instead: numbers "
            "computed on it are not GTSRB results. For the real data, fetch again with network "
            "access (`python -m lrlab.data fetch --dest DIR --force`), with --source "
            "path/to/gtsrb, or with --archives DIR holding the official archives.",
            file=sys.stderr,
        )
        draw_synthetic_gtsrb(built, seed)
        return _synthetic_description(seed, "no GTSRB download was possible")
    if subset == "full":
        test_images = _archive_file(TEST_IMAGES_ARCHIVE, archives, downloads)
        test_gt = _archive_file(TEST_GT_ARCHIVE, archives, downloads)
        _full_from_archives(training, test_images, test_gt, built)
        return "real GTSRB, the full official archives"
    _subset_from_training_archive(training, built, seed, subset)
    return f"real GTSRB, {subset} subset of the official archives (seed {seed})"


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
    """
    dest = _path_argument("dest", dest)
    for name, flag in (("synthetic", synthetic), ("force", force)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    seed = _check_integer("seed", seed, minimum=0)
    if subset is not None and subset not in SUBSETS:
        raise ValueError(f"subset must be one of {', '.join(SUBSETS)}, got {subset!r}")
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
    if source is not None:
        source = _path_argument("source", source)
        if not source.is_dir():
            raise FileNotFoundError(
                f"source folder {source} does not exist: give a folder holding GTSRB (such as "
                "a copy of gtsrb-tiny), or leave --source out to download the data"
            )
        _find_layout(source)  # a folder in no layout lrlab reads fails here, with its reason
        _check_apart(dest, source, "--source")
    if archives is not None:
        archives = _path_argument("archives", archives)
        if not archives.is_dir():
            raise FileNotFoundError(
                f"archives folder {archives} does not exist: give the folder holding "
                f"{TRAINING_ARCHIVE.name} (and, for --subset full, {TEST_IMAGES_ARCHIVE.name} "
                f"and {TEST_GT_ARCHIVE.name})"
            )
        _check_apart(dest, archives, "--archives")
    _remove_stale(dest)
    foreign = False  # True: dest is a user's folder that --force moves aside
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
    if dest.is_dir() and any(dest.iterdir()):
        if (dest / COMPLETE_FILE).is_file() and not force:
            print(
                f"{dest} is complete ({describe_source(dest)}); left alone "
                "(use --force to replace it)"
            )
            return dest
        if not force:
            try:
                account = validate_gtsrb(dest)
            except (OSError, ValueError) as error:
                raise ValueError(
                    f"--dest {dest} already holds something that is not GTSRB data lrlab reads "
                    f"({_reason(error)}); nothing was changed. Give another --dest, or add "
                    "--force to replace it"
                ) from None
            print(
                f"{dest} holds GTSRB data lrlab did not write ({account}): used as it is, "
                "nothing changed (--force replaces it)"
            )
            return dest
        if (dest / COMPLETE_FILE).is_file():
            print(f"--force: {dest} will be replaced once the new data is complete")
        else:
            foreign = True
            print(
                f"--force: {dest} was not written by lrlab (no {COMPLETE_FILE}): it will be "
                f"moved aside to {dest.name}.replaced-<timestamp> beside it, not deleted, "
                "once the new data is complete"
            )
    dest.parent.mkdir(parents=True, exist_ok=True)
    built = dest.parent / f".{dest.name}.{uuid.uuid4().hex[:8]}.partial"
    built.mkdir()  # with the usual permissions (a mkdtemp folder would be private)
    # a lock on the folder tells a later run that this build is in use (POSIX: a folder can
    # be opened and flock-ed; elsewhere staleness is judged by age alone)
    handle = os.open(built, os.O_RDONLY) if os.name == "posix" else None
    try:
        if handle is not None:
            _lock(handle)
        description = _build(
            built, subset, source, archives, synthetic, seed, dest.parent / "downloads"
        )
        try:
            validate_gtsrb(built, decode_all=True)
        except (OSError, ValueError) as error:
            copied = source is not None and subset in (None, "full")
            text = str(error)
            if copied:  # name the source's file, not the copy about to be deleted
                text = text.replace(str(built), str(source))
                advice = (
                    f"replace or remove that file in {source} (and its line in the GT csv), "
                    "or fetch from another source"
                )
            else:
                advice = "fetch again (add --force if the command asks for it)"
            raise ValueError(
                f"the data fetched for {dest} is not usable ({text}); nothing was changed: "
                f"{advice}"
            ) from None
        (built / SOURCE_FILE).write_text(description + "\n", encoding="utf-8")
        (built / COMPLETE_FILE).write_text("", encoding="utf-8")
        if foreign:
            aside = _move_aside_and_replace(built, dest)
            print(
                f"moved the previous {dest} aside to {aside}: delete it if you do not need it"
            )
        else:
            _replace_folder(built, dest)
    finally:
        if handle is not None:
            os.close(handle)
        if built.exists():
            shutil.rmtree(built)
    print(f"{dest}: {description}")
    return dest


def _stop_on_sigterm(signal_number, frame) -> None:
    raise SystemExit(128 + signal_number)  # unwinds, so fetch removes its partial folder


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``python -m lrlab.data fetch --dest DIR [options]`` (see ``fetch``).

    Every expected failure prints one line ``error: ...`` and exits with status 1.
    """
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
    arguments = parser.parse_args(argv)
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
    except (
        OSError,
        ValueError,
        TypeError,
        DownloadError,
        Image.DecompressionBombError,
        zipfile.BadZipFile,  # a damaged member of a zip that opened
        zlib.error,
    ) as error:
        print("error: " + " ".join(str(error).split()), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
