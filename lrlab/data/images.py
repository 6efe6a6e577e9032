"""The pixels of GTSRB: decoding images (RGB, ROI crop, resize) and checking that a folder's
images are all there and decode.

Shared by reading (``load_arrays``, ``lrlab.data.load_gtsrb``) and by ``fetch``, which checks
what it built with ``validate_gtsrb`` before marking it complete.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from lrlab import _validate
from lrlab.data._arguments import data_folder
from lrlab.data.layout import ImageRecord, Layout, find_layout, read_images, split_name

__all__ = ["decode_images", "load_arrays", "validate_gtsrb"]


def as_rgb(image: Image.Image) -> Image.Image:
    """``image`` as 8-bit RGB. Integer modes (``I;16*``, ``I``: 16-bit PNG or PPM) are scaled
    from 0-65535 to 0-255 (value / 257, rounded) instead of being clipped to white."""
    if image.mode.startswith("I;16") or image.mode == "I":
        wide = np.asarray(image).astype(np.float64)
        grey = np.clip(np.round(wide / 257.0), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    return image.convert("RGB")


def open_rgb(path: Path, advice: str = "") -> Image.Image:
    """The image at ``path`` as 8-bit RGB (``as_rgb``); a ValueError naming it (then
    ``advice``) when it is missing, undecodable or too large."""
    try:
        with Image.open(path) as opened:
            return as_rgb(opened)
    except (OSError, Image.DecompressionBombError) as error:
        raise ValueError(f"cannot read image {path} ({error}){advice}") from error


def decode_image(record: ImageRecord, image_size: int, crop_roi: bool) -> np.ndarray:
    """One image as uint8 (image_size, image_size, 3): RGB, cropped to its ROI if asked, resized."""
    image = open_rgb(
        record.path,
        ": replace the file or fetch the data again (`python -m lrlab.data fetch --force ...`)",
    )
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
    image_size = _validate.integer("image_size", image_size, minimum=1)
    pixels = np.empty((len(records), image_size, image_size, 3), dtype=np.uint8)
    for index, record in enumerate(records):
        pixels[index] = decode_image(record, image_size, crop_roi)
    return pixels.astype(np.float32) / np.float32(255)


def require_rois(records: Sequence[ImageRecord], data_dir: Path) -> None:
    """A ValueError unless every record has a ROI (as ``crop_roi=True`` needs)."""
    missing = [r.path for r in records if r.roi is None]
    if missing:
        raise ValueError(
            f"crop_roi=True needs the ROI of every image, and {len(missing)} images in {data_dir} "
            f"have none (e.g. {missing[0]}): only folders with GT csvs (the official layout) have "
            "ROIs"
        )


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
    image_size = _validate.integer("image_size", image_size, minimum=1)
    split = split_name(split)
    data_dir = data_folder(data_dir)
    records = read_images(find_layout(data_dir), split)
    if not records:
        raise ValueError(f"{data_dir} has no test images (no Final_Test/Images/ or test/ folder)")
    if crop_roi:
        require_rois(records, data_dir)
    labels = np.array([r.label for r in records], dtype=np.int32)
    return decode_images(records, image_size, crop_roi), labels


def check_images(layout: Layout, decode_all: bool = False) -> str:
    """``validate_gtsrb`` of a found layout."""
    train, test = read_images(layout, "train"), read_images(layout, "test")
    missing = [r.path for r in train + test if not r.path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} listed image(s) of {layout.root} are missing, e.g. {missing[0]}"
        )
    if not decode_all:
        for record in train[:1] + test[:1]:
            decode_image(record, 8, crop_roi=False)
    for record in train + test if decode_all else ():
        try:
            with Image.open(record.path) as opened:
                opened.load()
        except (OSError, Image.DecompressionBombError) as error:
            raise ValueError(f"cannot decode image {record.path} ({error})") from None
    return f"{layout.name}, {len(train)} training and {len(test)} test images"


def validate_gtsrb(folder: str | os.PathLike, decode_all: bool = False) -> str:
    """Check that ``folder`` holds GTSRB data lrlab reads; return a one-line account of it.

    The layout must be one ``list_images`` reads, with at least one training image, every
    listed image must exist, and the first training image (and the first test image, if
    any) must decode; with ``decode_all`` every listed image must decode (``fetch`` does this
    before marking a folder complete; measured on CPU: 0.07 ms per small ppm, 0.3 ms per png,
    so about 5 s for the full set's 52k ppm images, well under a minute). Raises ValueError or
    FileNotFoundError naming what is wrong.
    """
    return check_images(find_layout(data_folder(folder)), decode_all)
