"""Reading GTSRB's folder layouts: the class names, the layouts, the image lists.

Two layouts are read (``find_layout`` tells which, once; ``read_images`` reads a split of it):

- official: ``Final_Training/Images/<class:05d>/`` with ``GT-<class:05d>.csv`` in each class
  folder, and ``Final_Test/Images/`` with ``GT-final_test.csv`` (inside ``Images/``, or beside
  it where the official ground-truth archive unpacks). The csvs are ``;``-separated with the
  columns ``Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId``.
- class folders: ``<root>/train/<class>/`` and optionally ``<root>/test/<class>/``, or
  ``<root>/<class>/`` alone (training images only), holding ``.png``, ``.jpg``, ``.jpeg`` or
  ``.ppm`` files. A ``GT-<class>.csv`` in a class folder, when present, gives the ROIs.

A file named ``<track>_<frame>.<ext>`` belongs to a track: the ~30 frames of one physical sign.
Source: J. Stallkamp, M. Schlipsing, J. Salmen, C. Igel, "The German Traffic Sign Recognition
Benchmark: A multi-class classification competition", IJCNN 2011.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

from lrlab import _validate
from lrlab.data._arguments import data_folder, fetch_command
from lrlab.paths import DATA_DIR_VARIABLE

__all__ = [
    "CLASS_NAMES",
    "COMPLETE_FILE",
    "GT_COLUMNS",
    "IMAGE_EXTENSIONS",
    "NUM_CLASSES",
    "SOURCE_FILE",
    "ImageRecord",
    "describe_source",
    "list_images",
]

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
SOURCE_FILE = ".lrlab-source"  # its first line describes the data (written by fetch)
COMPLETE_FILE = ".complete"  # marks a folder fetch finished
OFFICIAL, CLASS_FOLDERS = "official layout", "class-folder layout"
_TRACK_NAME = re.compile(r"^(?P<track>\d+)_(?P<frame>\d+)\.\w+$")
_REFETCH = "fetch the data again (`python -m lrlab.data fetch --force`)"


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
class Layout:
    """Where a GTSRB folder keeps its splits, as ``find_layout`` found them."""

    name: str  # OFFICIAL or CLASS_FOLDERS
    root: Path  # the folder given
    train_folder: Path  # holds the class folders
    test_folder: Path | None
    test_csv: Path | None  # the official layout's GT-final_test.csv, None if it is missing

    @property
    def official(self) -> bool:
        return self.name == OFFICIAL


class NotALayout(ValueError):
    """A folder in no layout lrlab reads; ``reason`` is the short account, without advice."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def reason_of(error: Exception) -> str:
    """The short account of ``error``: a ``NotALayout``'s reason, else its message."""
    return getattr(error, "reason", None) or str(error)


def visible_subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def find_layout(data_dir: Path) -> Layout:
    """The layout of ``data_dir``; FileNotFoundError, NotADirectoryError or ``NotALayout``
    (a ValueError) saying what was found and what to do when it is in none."""
    if not data_dir.exists():
        raise FileNotFoundError(
            f"GTSRB folder {data_dir} does not exist: fetch the tiny subset with "
            f"{fetch_command(data_dir)} (add `--source path/to/gtsrb` to copy a local copy), "
            f"or set {DATA_DIR_VARIABLE} to a GTSRB folder"
        )
    if not data_dir.is_dir():
        raise NotADirectoryError(f"GTSRB folder {data_dir} is a file, not a folder")
    official_train = data_dir / "Final_Training" / "Images"
    if official_train.is_dir():
        test_images = data_dir / "Final_Test" / "Images"
        if not test_images.is_dir():
            return Layout(OFFICIAL, data_dir, official_train, None, None)
        candidates = (test_images / "GT-final_test.csv", test_images.parent / "GT-final_test.csv")
        test_csv = next((p for p in candidates if p.is_file()), None)
        return Layout(OFFICIAL, data_dir, official_train, test_images, test_csv)
    if (data_dir / "train").is_dir():
        test = data_dir / "test"
        return Layout(
            CLASS_FOLDERS, data_dir, data_dir / "train", test if test.is_dir() else None, None
        )
    subfolders = visible_subfolders(data_dir)
    if subfolders and all(p.name.isdigit() for p in subfolders):
        return Layout(CLASS_FOLDERS, data_dir, data_dir, None, None)
    found = ", ".join(sorted(p.name for p in data_dir.iterdir())[:8]) or "nothing"
    raise NotALayout(
        f"{data_dir} is not in a GTSRB layout lrlab reads (found: {found})",
        f"{data_dir} is not in a GTSRB layout lrlab reads (found: {found}). Expected "
        "Final_Training/Images/<class>/ with GT-<class>.csv (the official layout), "
        "train/<class>/ (class folders), or <class>/ folders named by ClassId. "
        f"Fetch the tiny subset elsewhere with {fetch_command('data/gtsrb-tiny')}, or set "
        f"{DATA_DIR_VARIABLE} to a GTSRB folder",
    )


def _class_id(text: str, where: str) -> int:
    if not text.strip().isdigit() or int(text) >= NUM_CLASSES:
        raise ValueError(
            f"{where}: the class must be a GTSRB ClassId 0-{NUM_CLASSES - 1}, got {text!r}"
        )
    return int(text)


def track_of(file_name: str) -> str | None:
    """The ``<track>`` of a ``<track>_<frame>.<ext>`` file name, else None."""
    match = _TRACK_NAME.match(file_name)
    return match["track"] if match else None


def _gt_rows(csv_path: Path) -> list[list[str]]:
    """The rows of a GT csv after its header, which must be ``GT_COLUMNS``."""
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
    return rows[1:]


def _gt_record(row: list[str], where: str, image_folder: Path) -> ImageRecord:
    if len(row) != len(GT_COLUMNS):
        raise ValueError(f"{where}: expected {len(GT_COLUMNS)} ';'-separated fields, got {row}")
    try:
        x1, y1, x2, y2 = (int(field) for field in row[3:7])
    except ValueError:
        raise ValueError(f"{where}: the Roi columns must be integers, got {row[3:7]}") from None
    file_name = row[0].strip()
    label = _class_id(row[7], where)
    return ImageRecord(image_folder / file_name, label, (x1, y1, x2, y2), track_of(file_name))


def read_gt_csv(csv_path: Path, image_folder: Path) -> list[ImageRecord]:
    """The images listed in a ``;``-separated GT csv, their paths relative to ``image_folder``."""
    records = []
    first_line: dict[str, int] = {}
    for line_number, row in enumerate(_gt_rows(csv_path), start=2):
        if not any(field.strip() for field in row):
            continue
        where = f"{csv_path}, line {line_number}"
        record = _gt_record(row, where, image_folder)
        if record.path.name in first_line:
            raise ValueError(
                f"{where}: {record.path.name} is listed twice (also on line "
                f"{first_line[record.path.name]}); a file listed twice could land in both "
                "training and validation: remove the duplicate row"
            )
        first_line[record.path.name] = line_number
        records.append(record)
    return records


def _read_class_folder(class_folder: Path, label: int, require_csv: bool) -> list[ImageRecord]:
    """The images of one class folder: from its GT csv when it has one, else its image files."""
    csv_path = class_folder / f"GT-{class_folder.name}.csv"
    if csv_path.is_file():
        records = read_gt_csv(csv_path, class_folder)
        wrong = [r for r in records if r.label != label]
        if wrong:
            raise ValueError(
                f"{csv_path} gives ClassId {wrong[0].label} to {wrong[0].path.name}, "
                f"which lies in the folder of class {label}"
            )
    elif require_csv:
        raise FileNotFoundError(
            f"{csv_path} is missing: the official layout has a GT-<class>.csv in every class "
            f"folder. Add it, or {_REFETCH}"
        )
    else:
        records = [
            ImageRecord(path, label, None, track_of(path.name))
            for path in sorted(class_folder.iterdir())
            if path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")
        ]
    if not records:
        raise ValueError(
            f"class folder {class_folder} has no images ({', '.join(IMAGE_EXTENSIONS)}"
            f"{' listed in its csv' if csv_path.is_file() else ''}): remove the folder, or "
            f"{_REFETCH}"
        )
    return records


def read_class_folders(folder: Path, require_csv: bool) -> list[ImageRecord]:
    """The images of every class folder in ``folder``, from its GT csv when it has one."""
    class_folders = visible_subfolders(folder)
    if not class_folders:
        raise ValueError(
            f"{folder} has no class folders (<class>/ named by ClassId): add them, or fetch the "
            f"data again with {fetch_command(folder, ' --force')}"
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
        records.extend(_read_class_folder(class_folder, label, require_csv))
    return records


def _read_official_test(layout: Layout) -> list[ImageRecord]:
    if layout.test_csv is None:
        raise FileNotFoundError(
            f"{layout.test_folder} has no GT-final_test.csv (in it or beside it): unzip "
            f"GTSRB_Final_Test_GT.zip (the csv with ClassId) into {layout.test_folder.parent}, "
            f"or {_REFETCH}"
        )
    records = read_gt_csv(layout.test_csv, layout.test_folder)
    if not records:
        raise ValueError(f"{layout.test_csv} lists no images: add them, or {_REFETCH}")
    return records


def read_images(layout: Layout, split: str) -> list[ImageRecord]:
    """The images of ``split`` ("train" or "test") of a found layout; [] without a test part."""
    if split == "train":
        return read_class_folders(layout.train_folder, require_csv=layout.official)
    if layout.test_folder is None:
        return []
    if layout.official:
        return _read_official_test(layout)
    return read_class_folders(layout.test_folder, require_csv=False)


def split_name(split) -> str:
    """``split`` if it is "train" or "test", else raise."""
    return _validate.choice("split", split, ("train", "test"), allowed="'train' or 'test'")


def list_images(
    data_dir: str | os.PathLike | None = None, split: str = "train"
) -> list[ImageRecord]:
    """The images of ``split`` ("train" or "test") in ``data_dir``, in either layout.

    The test list is empty when the folder has no test part. ``data_dir`` None means
    ``lrlab.paths.default_data_dir()``.
    """
    split = split_name(split)
    return read_images(find_layout(data_folder(data_dir)), split)


def _recorded_source(folder: Path) -> str | None:
    source_file = folder / SOURCE_FILE
    if source_file.is_file():
        lines = source_file.read_text(encoding="utf-8").strip().splitlines()
        if lines:
            return lines[0].strip()
    return None


def describe(layout: Layout) -> str:
    """``describe_source`` of a found layout's folder."""
    return _recorded_source(layout.root) or f"real GTSRB ({layout.name})"


def describe_source(data_dir: str | os.PathLike | None = None) -> str:
    """The one-line description of the data in ``data_dir``.

    It is the first line of ``<data_dir>/.lrlab-source`` (written by ``fetch``); a folder
    without one was not drawn by lrlab and is described as "real GTSRB (<layout>)".
    """
    data_dir = data_folder(data_dir)
    return _recorded_source(data_dir) or describe(find_layout(data_dir))
