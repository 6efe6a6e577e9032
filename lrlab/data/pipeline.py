"""GTSRB for a lesson: find the folder (``find_gtsrb``), split it by track, serve it as
batched ``tf.data`` (``load_gtsrb``) and say what was loaded (``GTSRBData.summary``).

Where the data is (``find_gtsrb``): ``$LRLAB_DATA_DIR`` if set, else ``data/gtsrb-tiny`` under
the project root (the checkout, else the working directory), fetched on first use. The layout
of the folder is found once per load and passed on.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lrlab import _validate
from lrlab.data._arguments import data_folder, fetch_command
from lrlab.data.fetching import fetch
from lrlab.data.images import decode_images, require_rois
from lrlab.data.layout import (
    CLASS_NAMES,
    COMPLETE_FILE,
    ImageRecord,
    Layout,
    describe,
    find_layout,
    read_images,
    reason_of,
)
from lrlab.paths import DATA_DIR_VARIABLE, DEFAULT_DATA_FOLDER, default_data_choice

__all__ = ["GTSRBData", "find_gtsrb", "load_gtsrb", "split_train_validation"]


# --------------------------------------------------------------------------- the data-location rule


def _locate(fetch_missing: bool) -> tuple[Path, str, Layout | None]:
    """``find_gtsrb``'s folder, the rule that chose it ("default" or "LRLAB_DATA_DIR") and its
    layout when it was found on the way (None for a folder fetch filled or completed)."""
    folder, rule = default_data_choice()
    where = f"{folder} ({'the default folder' if rule == 'default' else rule})"
    missing = not folder.exists() and not folder.is_symlink()
    if missing or (folder.is_dir() and not any(folder.iterdir())):
        state = f"no GTSRB folder at {where}" if missing else f"the GTSRB folder {where} is empty"
        if not fetch_missing:
            raise FileNotFoundError(
                f"{state}: fetch the tiny subset {'with' if missing else 'into it with'} "
                f"{fetch_command(folder)}, or set {DATA_DIR_VARIABLE} to a GTSRB folder"
            )
        print(
            f"No GTSRB data at {where} yet: fetching the tiny subset into it."
            if missing
            else f"The GTSRB folder {where} is empty: fetching the tiny subset into it."
        )
        fetch(folder)
        return folder, rule, None
    if folder.is_dir() and (folder / COMPLETE_FILE).is_file():
        return folder, rule, None
    try:
        return folder, rule, find_layout(folder)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"{where} holds no GTSRB data lrlab reads ({reason_of(error)}): move it away and run "
            f"{fetch_command(folder)}, or set {DATA_DIR_VARIABLE} to a GTSRB folder"
        ) from None


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
    return _locate(fetch_missing=_validate.flag("fetch", fetch))[0]


# --------------------------------------------------------------------------- splitting


def _validation_fraction(value) -> float:
    return _validate.real(
        "validation_split",
        value,
        low=0,
        high=1,
        high_open=True,
        allowed="in [0, 1)",
        kind="a number in [0, 1) (e.g. 0.2)",
    )


def _tracks_to_validation(
    members: np.ndarray, tracks: Sequence[str], target: int, rng: np.random.Generator
) -> list[int]:
    """Whole tracks of one class for validation: the class's tracks in a seeded order, each
    joining when that brings the count closer to ``target``, one track kept for training."""
    by_track: dict[str, list[int]] = defaultdict(list)
    for index in members:
        by_track[tracks[index]].append(int(index))
    names = sorted(by_track)
    chosen: list[int] = []
    for position in rng.permutation(len(names)):
        size = len(by_track[names[position]])
        if len(chosen) + size >= len(members):
            continue  # keep at least one track for training
        if abs(len(chosen) + size - target) < abs(len(chosen) - target):
            chosen.extend(by_track[names[position]])
    return chosen


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
    validation_split = _validation_fraction(validation_split)
    if tracks is not None and len(tracks) != len(labels):
        raise ValueError(f"tracks has {len(tracks)} entries for {len(labels)} labels")
    rng = np.random.default_rng(seed)
    validation: list[int] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        target = min(math.floor(validation_split * len(members) + 0.5), len(members) - 1)
        if tracks is None:
            validation.extend(rng.permutation(members)[:target])
        else:
            validation.extend(_tracks_to_validation(members, tracks, target, rng))
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
            split = (
                ", validation split by track"
                if self.group_by_track
                else (", validation split image by image")
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


def _split_tracks(
    records: Sequence[ImageRecord], group_by_track: bool | None, data_dir: Path
) -> list[str] | None:
    """The track of every training image when the split goes by track, else None."""
    if group_by_track is False:
        return None
    unnamed = [r.path.name for r in records if r.track is None]
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
        return None
    return [r.track for r in records]


def _labels(records: Sequence[ImageRecord]) -> np.ndarray:
    return np.array([r.label for r in records], dtype=np.int32)


def _load_arguments(image_size, batch_size, seed, group_by_track) -> tuple[int, int, int]:
    """``load_gtsrb``'s numbers checked (``image_size``, ``batch_size``, ``seed``), and
    ``group_by_track`` None, True or False."""
    numbers = (
        _validate.integer("image_size", image_size, minimum=1),
        _validate.integer("batch_size", batch_size, minimum=1),
        _validate.integer("seed", seed, minimum=0),
    )
    if group_by_track is not None:
        _validate.flag("group_by_track", group_by_track, allowed="None, True or False")
    return numbers


def _chosen_layout(data_dir: str | os.PathLike | None) -> tuple[Layout, Path, str]:
    """The layout of ``data_dir`` (None: ``find_gtsrb``'s folder), the folder and its rule."""
    layout = None
    if data_dir is None:
        data_dir, data_rule, layout = _locate(fetch_missing=True)
    else:
        data_dir, data_rule = data_folder(data_dir), "argument"
    return layout or find_layout(data_dir), data_dir, data_rule


def _datasets(images, labels, split, test, batch_size: int, cache: bool, seed: int) -> tuple:
    """``(train, validation, test)`` batched: ``train`` reshuffled by ``seed`` at every pass;
    ``validation`` and ``test`` in file order, None where they have no image."""
    train_indices, validation_indices = split
    validation = None
    if len(validation_indices):
        validation = _pipeline(
            images[validation_indices], labels[validation_indices], batch_size, cache, None
        )
    return (
        _pipeline(images[train_indices], labels[train_indices], batch_size, cache, seed),
        validation,
        _pipeline(*test, batch_size, cache, None) if len(test[1]) else None,
    )


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
    image_size, batch_size, seed = _load_arguments(image_size, batch_size, seed, group_by_track)
    layout, data_dir, data_rule = _chosen_layout(data_dir)
    train_records, test_records = read_images(layout, "train"), read_images(layout, "test")
    if crop_roi:
        require_rois(train_records + test_records, data_dir)
    tracks = _split_tracks(train_records, group_by_track, data_dir)
    labels = _labels(train_records)
    split = split_train_validation(labels, validation_split, seed, tracks)
    images = decode_images(train_records, image_size, crop_roi)
    test = (decode_images(test_records, image_size, crop_roi), _labels(test_records))
    return GTSRBData(
        *_datasets(images, labels, split, test, batch_size, cache, seed),
        num_train=len(split[0]),
        num_validation=len(split[1]),
        num_test=len(test_records),
        num_classes=len(np.unique(labels)),
        class_names=list(CLASS_NAMES),
        data_dir=data_dir,
        source=describe(layout),
        image_size=image_size,
        crop_roi=bool(crop_roi),
        group_by_track=tracks is not None,
        data_rule=data_rule,
    )
