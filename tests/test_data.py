"""Tests of lrlab.data: GTSRB layouts, ROI crop, splits, tf.data, download, zip safety, fetch.

The fixture folders are drawn here with Pillow. Most images are one solid colour that
encodes what the test needs to recover after decoding (class, track, frame), because
resizing a constant image gives the same constant: pixel value v reads back as v / 255.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lrlab import data
from lrlab.data import (
    CLASS_NAMES,
    GT_COLUMNS,
    DownloadError,
    describe_source,
    download,
    fetch,
    fetching,
    list_images,
    load_arrays,
    load_gtsrb,
    safe_extract,
    split_train_validation,
)

ROOT = Path(__file__).resolve().parents[1]
REAL_TINY = ROOT / "data" / "gtsrb-tiny"


# --------------------------------------------------------------------------- fixture folders


def colour_of(label: int, track: int, frame: int = 0) -> tuple[int, int, int]:
    """A solid colour that tells class, track and frame apart (each channel below 256)."""
    return (40 * label + 10, 30 * track + 10, 7 * frame)


def decode_colour(image: np.ndarray) -> tuple[int, int, int]:
    """(label, track, frame) back from a decoded float image made with ``colour_of``."""
    red, green, blue = (int(round(float(v) * 255)) for v in image[0, 0])
    return (red - 10) // 40, (green - 10) // 30, blue // 7


def save_image(path: Path, colour, size=(12, 10)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


def write_csv(path: Path, rows, header=GT_COLUMNS) -> None:
    lines = [";".join(header)] + [";".join(str(v) for v in row) for row in rows]
    path.write_text("\r\n".join(lines) + "\r\n")


def make_official(root: Path, tracks_per_class: dict[int, list[int]], frames=2, test_csv="beside"):
    """Official layout: Final_Training/Images/<class>/<track>_<frame>.ppm with GT csvs, and a
    Final_Test with one image per class whose csv is beside Images/ or inside it."""
    for label, tracks in tracks_per_class.items():
        folder = root / "Final_Training" / "Images" / f"{label:05d}"
        rows = []
        for track in tracks:
            for frame in range(frames):
                name = f"{track:05d}_{frame:05d}.ppm"
                save_image(folder / name, colour_of(label, track, frame))
                rows.append((name, 12, 10, 1, 1, 10, 8, label))
        write_csv(folder / f"GT-{label:05d}.csv", rows)
    if test_csv is not None:
        images = root / "Final_Test" / "Images"
        rows = []
        for number, label in enumerate(sorted(tracks_per_class)):
            save_image(images / f"{number:05d}.ppm", colour_of(label, 7))
            rows.append((f"{number:05d}.ppm", 12, 10, 1, 1, 10, 8, label))
        csv_folder = images.parent if test_csv == "beside" else images
        write_csv(csv_folder / "GT-final_test.csv", rows)
    return root


def make_class_folders(root: Path, counts: dict[int, int], extension=".png", tracks=3):
    """Class folders <root>/<class:05d>/<track>_<frame><extension>, ``counts`` images per class."""
    for label, count in counts.items():
        for index in range(count):
            track, frame = index % tracks, index // tracks
            path = root / f"{label:05d}" / f"{track:05d}_{frame:05d}{extension}"
            save_image(path, colour_of(label, track, frame))
    return root


# ------------------------------------------------------------------------- class names, layouts


def test_class_names_are_the_43_gtsrb_names_by_class_id():
    names = CLASS_NAMES  # lrlab.data.class_names() is gone: it copied this tuple
    assert len(names) == 43
    # values from the benchmark's signnames.csv (ClassId,SignName)
    assert names[0] == "Speed limit (20km/h)"
    assert names[14] == "Stop"
    assert names[17] == "No entry"
    assert names[42] == "End of no passing by vehicles over 3.5 metric tons"
    with pytest.raises(AttributeError):  # a tuple: no caller can change the module's names
        names.append("changed")
    assert len(CLASS_NAMES) == 43


@pytest.mark.parametrize("test_csv", ["beside", "inside"])
def test_official_layout_reads_training_and_test_images(tmp_path, test_csv):
    root = make_official(tmp_path / "gtsrb", {0: [0, 1], 3: [0, 2, 5]}, frames=2, test_csv=test_csv)
    train = list_images(root, "train")
    assert Counter(r.label for r in train) == {0: 4, 3: 6}  # tracks x 2 frames
    assert {(r.label, r.track) for r in train} == {
        (0, "00000"),
        (0, "00001"),
        (3, "00000"),
        (3, "00002"),
        (3, "00005"),
    }
    assert all(r.roi == (1, 1, 10, 8) for r in train)

    x, y = load_arrays(root, "train", image_size=8)
    assert x.shape == (10, 8, 8, 3) and x.dtype == np.float32 and y.dtype == np.int32
    assert 0.0 <= x.min() and x.max() <= 1.0
    for image, label, record in zip(x, y, train, strict=True):
        # a solid image resized stays solid: each pixel is colour / 255
        track, frame = int(record.track), int(record.path.stem.split("_")[1])
        np.testing.assert_allclose(
            image,
            np.broadcast_to(np.array(colour_of(label, track, frame)) / 255, (8, 8, 3)),
            atol=1e-7,
        )

    x_test, y_test = load_arrays(root, "test", image_size=8)
    assert x_test.shape == (2, 8, 8, 3) and list(y_test) == [0, 3]


def test_class_folder_layouts_train_and_test_or_train_only(tmp_path):
    root = tmp_path / "small"
    make_class_folders(root / "train", {1: 4, 2: 3}, extension=".png")
    make_class_folders(root / "test", {1: 2, 2: 2}, extension=".jpg")
    save_image(root / "test" / "00002" / "00007_00000.ppm", (0, 0, 0))
    assert Counter(r.label for r in list_images(root, "train")) == {1: 4, 2: 3}
    assert Counter(r.label for r in list_images(root, "test")) == {1: 2, 2: 3}  # .png .jpg .ppm
    assert all(r.roi is None for r in list_images(root, "train"))
    x, y = load_arrays(root, "test", image_size=5)
    assert x.shape == (5, 5, 5, 3) and sorted(y) == [1, 1, 2, 2, 2]

    bare = make_class_folders(tmp_path / "bare", {0: 2, 7: 2}, extension=".ppm")
    assert Counter(r.label for r in list_images(bare, "train")) == {0: 2, 7: 2}
    assert list_images(bare, "test") == []


def test_roi_crop_keeps_exactly_the_box(tmp_path):
    # a 40x30 blue image with a red box on columns 10-29 and rows 5-24: the ROI 10, 5, 30, 25
    folder = tmp_path / "roi" / "Final_Training" / "Images" / "00004"
    folder.mkdir(parents=True)
    image = Image.new("RGB", (40, 30), (0, 0, 255))
    image.paste((255, 0, 0), (10, 5, 30, 25))  # Pillow boxes exclude the right and bottom edges
    image.save(folder / "00000_00000.ppm")
    write_csv(folder / "GT-00004.csv", [("00000_00000.ppm", 40, 30, 10, 5, 30, 25, 4)])

    cropped, labels = load_arrays(tmp_path / "roi", image_size=16, crop_roi=True)
    assert list(labels) == [4]
    np.testing.assert_array_equal(cropped[0], np.broadcast_to([1.0, 0.0, 0.0], (16, 16, 3)))
    whole, _ = load_arrays(tmp_path / "roi", image_size=16)
    assert whole[0, 0, 0].tolist() == [0.0, 0.0, 1.0]  # the corner is outside the box: blue

    no_rois = make_class_folders(tmp_path / "plain", {0: 2})
    with pytest.raises(ValueError, match="crop_roi=True needs the ROI of every image"):
        load_arrays(no_rois, crop_roi=True)


# --------------------------------------------------------------------------- splits


def test_random_split_is_stratified_with_rounded_counts():
    labels = np.repeat([0, 1, 2, 3], [10, 5, 20, 1])
    train, validation = split_train_validation(labels, 0.2, seed=0)
    # per class round(0.2 * n), at most n - 1: 10 -> 2, 5 -> 1, 20 -> 4, 1 -> 0
    assert Counter(labels[validation]) == {0: 2, 1: 1, 2: 4}
    assert Counter(labels[train]) == {0: 8, 1: 4, 2: 16, 3: 1}
    assert sorted(np.concatenate([train, validation])) == list(range(36))


def test_split_by_track_keeps_every_track_on_one_side():
    rng = np.random.default_rng(1)
    labels, tracks = [], []
    for label in range(6):
        for track in range(int(rng.integers(2, 9))):
            frames = int(rng.integers(1, 6))
            labels += [label] * frames
            tracks += [f"{track:05d}"] * frames
    labels = np.array(labels)
    train, validation = split_train_validation(labels, 0.2, seed=0, tracks=tracks)
    train_tracks = {(labels[i], tracks[i]) for i in train}
    validation_tracks = {(labels[i], tracks[i]) for i in validation}
    assert not train_tracks & validation_tracks
    assert {label for label, _ in train_tracks} == set(
        range(6)
    )  # each class keeps a training track
    assert len(validation) > 0


def test_split_is_reproducible_for_a_seed_and_differs_for_another():
    labels = np.repeat(np.arange(5), 20)
    tracks = [f"{i // 4:05d}" for i in range(100)]  # 5 tracks of 4 frames per class
    for by_track in (None, tracks):
        first = split_train_validation(labels, 0.2, seed=0, tracks=by_track)
        again = split_train_validation(labels, 0.2, seed=0, tracks=by_track)
        other = split_train_validation(labels, 0.2, seed=1, tracks=by_track)
        np.testing.assert_array_equal(first[1], again[1])
        assert not np.array_equal(first[1], other[1])
        assert len(first[1]) == len(other[1]) == 20  # 4 per class: round(0.2 * 20), one whole track


def epoch_order(dataset) -> list[tuple[int, int, int]]:
    """(label, track, frame) of every image of one pass over ``dataset``, in order."""
    return [decode_colour(image) for batch, _ in dataset for image in batch.numpy()]


def test_load_gtsrb_batches_split_sizes_and_seeded_reshuffling(tmp_path):
    make_class_folders(tmp_path / "gtsrb" / "train", {0: 10, 1: 10, 5: 10}, tracks=5)
    loaded = load_gtsrb(
        tmp_path / "gtsrb", image_size=6, batch_size=4, validation_split=0.2, group_by_track=False
    )
    # round(0.2 * 10) = 2 validation images per class; no test folder
    assert (loaded.num_train, loaded.num_validation, loaded.num_test) == (24, 6, 0)
    assert loaded.test is None and loaded.num_classes == 3 and len(loaded.class_names) == 43
    assert epoch_order(loaded.validation) == epoch_order(loaded.validation)  # not shuffled
    assert Counter(label for label, _, _ in epoch_order(loaded.validation)) == {0: 2, 1: 2, 5: 2}
    # an explicit data_dir is named as given, without a rule
    assert loaded.data_rule == "argument"
    assert loaded.summary() == (
        f"Data: real GTSRB (class-folder layout) in {tmp_path / 'gtsrb'}: 24 train / "
        "6 validation / 0 test images, 6x6, 3 classes, validation split image by image"
    )

    first_epoch, second_epoch = epoch_order(loaded.train), epoch_order(loaded.train)
    assert sorted(first_epoch) == sorted(second_epoch) and first_epoch != second_epoch
    reloaded = load_gtsrb(tmp_path / "gtsrb", image_size=6, batch_size=4, group_by_track=False)
    assert [epoch_order(reloaded.train), epoch_order(reloaded.train)] == [first_epoch, second_epoch]
    other_seed = load_gtsrb(
        tmp_path / "gtsrb", image_size=6, batch_size=4, seed=1, group_by_track=False
    )
    assert epoch_order(other_seed.train) != first_epoch

    images, labels = next(iter(loaded.train))
    assert tuple(images.shape) == (4, 6, 6, 3) and tuple(labels.shape) == (4,)
    assert (images.dtype.name, labels.dtype.name) == ("float32", "int32")

    # the default splits by track, as group_by_track=True does, since every name carries one
    default = load_gtsrb(tmp_path / "gtsrb", image_size=6)
    grouped = load_gtsrb(tmp_path / "gtsrb", image_size=6, group_by_track=True)
    assert epoch_order(default.validation) == epoch_order(grouped.validation)
    assert default.group_by_track and grouped.group_by_track
    train_tracks = {(label, track) for label, track, _ in epoch_order(grouped.train)}
    validation_tracks = {(label, track) for label, track, _ in epoch_order(grouped.validation)}
    assert not train_tracks & validation_tracks
    assert grouped.num_validation == 6  # per class one track of 2 frames: round(0.2 * 10) = 2
    assert grouped.summary().endswith("3 classes, validation split by track")


# --------------------------------------------------------------------------- bad input


def test_missing_folder_suggests_the_fetch_command_not_make(tmp_path):
    # a runtime message must not assume a checkout: it names the product's own command
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as raised:
        load_arrays(missing)
    message = str(raised.value)
    assert f"{missing} does not exist" in message
    assert f"`python -m lrlab.data fetch --dest {missing}`" in message
    assert "LRLAB_DATA_DIR" in message and "make data" not in message


def test_unknown_layout_is_named(tmp_path):
    (tmp_path / "odd" / "pictures").mkdir(parents=True)
    with pytest.raises(
        ValueError, match=r"odd is not in a GTSRB layout lrlab reads \(found: pictures\)"
    ):
        list_images(tmp_path / "odd")


def test_class_folder_without_images_is_named(tmp_path):
    root = make_class_folders(tmp_path / "gtsrb", {0: 2})
    (root / "00003").mkdir()
    (root / "00003" / "notes.txt").write_text("no images here")
    with pytest.raises(ValueError, match=r"class folder .*00003 has no images"):
        list_images(root)


def test_class_folder_name_must_be_a_class_id(tmp_path):
    root = make_class_folders(tmp_path / "gtsrb" / "train", {0: 2})
    (root / "00043").mkdir()
    with pytest.raises(
        ValueError, match=r"00043: the class must be a GTSRB ClassId 0-42, got '00043'"
    ):
        list_images(tmp_path / "gtsrb")


def test_csv_with_the_wrong_header_is_named(tmp_path):
    root = make_official(tmp_path / "gtsrb", {0: [0]})
    csv_path = root / "Final_Training" / "Images" / "00000" / "GT-00000.csv"
    write_csv(
        csv_path,
        [("00000_00000.ppm", 12, 10, 1, 1, 10, 8, 0)],
        header=("Filename", "Width", "Height"),
    )
    with pytest.raises(
        ValueError,
        match=r"GT-00000.csv has the header 'Filename;Width;Height'; expected 'Filename;Width;Hei",
    ):
        list_images(root)


def test_missing_class_csv_and_missing_test_csv_are_named(tmp_path):
    root = make_official(tmp_path / "gtsrb", {0: [0]}, test_csv="inside")
    (root / "Final_Test" / "Images" / "GT-final_test.csv").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"Images has no GT-final_test.csv .*GTSRB_Final_Test_GT.zip"
    ):
        list_images(root, "test")
    (root / "Final_Training" / "Images" / "00000" / "GT-00000.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"GT-00000.csv is missing"):
        list_images(root, "train")


def test_unreadable_image_is_named(tmp_path):
    root = make_class_folders(tmp_path / "gtsrb", {0: 2})
    (root / "00000" / "00009_00000.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"cannot read image .*00009_00000.png"):
        load_arrays(root)


def test_bad_arguments_are_rejected(tmp_path):
    root = make_class_folders(tmp_path / "gtsrb", {0: 2})
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'val'"):
        load_arrays(root, split="val")
    with pytest.raises(ValueError, match="image_size must be a positive integer"):
        load_arrays(root, image_size=0)
    with pytest.raises(ValueError, match=r"validation_split must be in \[0, 1\), got 1.0"):
        split_train_validation([0, 0], 1.0)
    # round 2: a string (or bool) is a TypeError naming the argument and what is allowed
    # (before: a raw "'<=' not supported" comparison error)
    with pytest.raises(TypeError, match=r"validation_split must be a number in \[0, 1\).*'0.2'"):
        load_gtsrb(root, validation_split="0.2")
    with pytest.raises(TypeError, match=r"validation_split must be a number.*True"):
        split_train_validation([0, 0], True)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        load_gtsrb(root, batch_size=0)
    bare = make_class_folders(tmp_path / "frames", {0: 2})
    (bare / "00000" / "frame.png").write_bytes((bare / "00000" / "00000_00000.png").read_bytes())
    with pytest.raises(
        ValueError, match=r"group_by_track=True needs training files named <track>_<frame>"
    ):
        load_gtsrb(bare, group_by_track=True)
    with pytest.raises(TypeError, match="group_by_track must be None, True or False, got 'yes'"):
        load_gtsrb(bare, group_by_track="yes")


def test_default_split_falls_back_to_images_with_a_note_when_names_carry_no_track(
    tmp_path, capsys
):
    root = make_class_folders(tmp_path / "frames", {0: 5, 1: 5})
    (root / "00000" / "frame.png").write_bytes((root / "00000" / "00000_00000.png").read_bytes())
    loaded = load_gtsrb(root, image_size=6)
    note = capsys.readouterr().out
    assert "1 training files" in note and "'frame.png'" in note
    assert "split image by image, not by track" in note
    assert not loaded.group_by_track
    assert loaded.summary().endswith("validation split image by image")
    # 6 images in class 0, 5 in class 1: round(0.2 * n) = 1 validation image each
    assert loaded.num_validation == 2


# --------------------------------------------------------------------------- download and archives


def test_download_verifies_the_checksum_and_deletes_a_wrong_file(tmp_path):
    served = tmp_path / "served.bin"
    served.write_bytes(b"GTSRB" * 1000)
    right_md5 = hashlib.md5(served.read_bytes()).hexdigest()
    downloads = tmp_path / "downloads"

    with pytest.raises(
        DownloadError,
        match=f"checksum mismatch .*expected MD5 {'0' * 32}, got {right_md5}; the downloaded file",
    ):
        download(served.as_uri(), downloads / "archive.zip", md5="0" * 32)
    assert not downloads.exists()  # no target, no partial file, not even the new folder

    target = download(served.as_uri(), downloads / "archive.zip", md5=right_md5)
    assert target.read_bytes() == served.read_bytes() and list(downloads.iterdir()) == [target]

    with pytest.raises(DownloadError, match="could not download"):
        download((tmp_path / "absent.zip").as_uri(), downloads / "other.zip", md5=right_md5)
    assert list(downloads.iterdir()) == [target]


@pytest.mark.parametrize(
    "member", ["../evil.txt", "/tmp/evil.txt", "good/../../evil.txt", "C:/evil.txt", "\\evil.txt"]
)
def test_unsafe_archive_members_are_refused_before_anything_is_written(tmp_path, member):
    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        opened.writestr("good/first.txt", "fine")
        opened.writestr(member, "escaped")
    target = tmp_path / "work" / "target"
    with pytest.raises(
        ValueError, match=r"refusing to extract .*would land outside .*nothing was extracted"
    ):
        safe_extract(archive, target)
    assert not (tmp_path / "work").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.zip"]


def test_safe_extract_writes_the_members_asked_for(tmp_path):
    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        opened.writestr("a/one.txt", "1")
        opened.writestr("a/two.txt", "2")
    safe_extract(archive, tmp_path / "out", ["a/two.txt"])
    assert [
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.txt")
    ] == ["a/two.txt"]


def make_training_archive(path: Path, classes=(0, 1, 2), tracks=6, frames=6) -> Path:
    """A zip shaped like GTSRB-Training_fixed.zip: GTSRB/Training/<class>/ with .ppm and GT csvs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for label in classes:
            rows = []
            for track in range(tracks):
                for frame in range(frames):
                    name = f"{track:05d}_{frame:05d}.ppm"
                    scratch = path.parent / "scratch.ppm"
                    Image.new("RGB", (7, 6), colour_of(label, track, frame)).save(scratch)
                    archive.write(scratch, f"GTSRB/Training/{label:05d}/{name}")
                    rows.append(f"{name};7;6;1;1;5;4;{label}")
            archive.writestr(
                f"GTSRB/Training/{label:05d}/GT-{label:05d}.csv",
                "\r\n".join([";".join(GT_COLUMNS), *rows]) + "\r\n",
            )
        (path.parent / "scratch.ppm").unlink()
    return path


def test_fetch_downloads_the_archive_and_keeps_a_tiny_subset_by_track(tmp_path, monkeypatch):
    archive = make_training_archive(tmp_path / "served" / "GTSRB-Training_fixed.zip")
    monkeypatch.setattr(
        fetching,
        "TRAINING_ARCHIVE",
        data.Archive(archive.name, archive.as_uri(), data.md5sum(archive)),
    )
    dest = fetch(tmp_path / "data" / "gtsrb-tiny", seed=0)

    assert (
        dest / ".lrlab-source"
    ).read_text().strip() == "real GTSRB, tiny subset of the official archives (seed 0)"
    assert (dest / ".complete").is_file()
    assert (tmp_path / "data" / "downloads" / archive.name).is_file()  # kept for a later --force
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["downloads", "gtsrb-tiny"]
    train = list_images(dest, "train")
    # 6 tracks per class: ceil(0.2 * 6) = 2 held out for test; 20 training images spread over the
    # other 4 tracks of 6 frames (5 each); 5 test images over the 2 held-out tracks (3 + 2)
    assert Counter(r.label for r in train) == {0: 20, 1: 20, 2: 20}
    per_track = Counter((r.label, r.track) for r in train)
    assert len(per_track) == 3 * 4 and set(per_track.values()) == {5}
    for label in range(3):  # the csv lists the kept images only
        csv_rows = (
            (dest / "Final_Training" / "Images" / f"{label:05d}" / f"GT-{label:05d}.csv")
            .read_text()
            .splitlines()
        )
        assert len(csv_rows) == 1 + 20
    x_test, y_test = load_arrays(dest, "test", image_size=4)
    assert Counter(y_test.tolist()) == {0: 5, 1: 5, 2: 5}
    test_tracks = {decode_colour(image)[:2] for image in x_test}
    assert not test_tracks & {(r.label, int(r.track)) for r in train}


# --------------------------------------------------------------------------- fetch


@pytest.fixture(scope="module")
def synthetic_dest(tmp_path_factory):
    return fetch(tmp_path_factory.mktemp("synthetic") / "gtsrb-tiny", synthetic=True, seed=0)


def test_synthetic_stand_in_has_the_tiny_layout_and_says_it_is_synthetic(synthetic_dest):
    source = describe_source(synthetic_dest)
    assert source.startswith(
        "SYNTHETIC stand-in drawn with Pillow, seed 0 (asked for with --synthetic)"
    )
    assert source.endswith("numbers are not GTSRB results")
    train, test = list_images(synthetic_dest, "train"), list_images(synthetic_dest, "test")
    assert Counter(r.label for r in train) == {label: 20 for label in range(43)}
    assert Counter(r.label for r in test) == {label: 5 for label in range(43)}
    assert (synthetic_dest / "Final_Test" / "GT-final_test.csv").is_file()
    loaded = load_gtsrb(synthetic_dest, crop_roi=True)
    assert (loaded.num_train, loaded.num_validation, loaded.num_test) == (688, 172, 215)
    assert loaded.summary().startswith("Data: SYNTHETIC stand-in")
    # the ROI crop fills the frame with the sign, so it differs from the whole image
    whole, _ = load_arrays(synthetic_dest, "test", image_size=16)
    cropped, _ = load_arrays(synthetic_dest, "test", image_size=16, crop_roi=True)
    assert np.abs(whole - cropped).mean() > 0.05


def test_fetch_falls_back_to_the_synthetic_stand_in_when_the_download_fails(
    tmp_path, monkeypatch, capsys
):
    unreachable = (tmp_path / "no-such-archive.zip").as_uri()
    monkeypatch.setattr(
        fetching,
        "TRAINING_ARCHIVE",
        data.Archive("GTSRB-Training_fixed.zip", unreachable, "0" * 32),
    )
    drawn = []
    monkeypatch.setattr(
        fetching,
        "draw_synthetic_gtsrb",
        lambda dest, seed: drawn.append(seed) or make_official(dest, {0: [0]}),
    )
    dest = fetch(tmp_path / "gtsrb-tiny", seed=3)
    assert drawn == [3]
    assert describe_source(dest).startswith(
        "SYNTHETIC stand-in drawn with Pillow, seed 3 (no GTSRB download was possible)"
    )
    assert "GTSRB download failed: could not download" in capsys.readouterr().err
    assert (dest / ".complete").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gtsrb-tiny"]  # no downloads/ left


def test_fetch_copies_a_source_and_marks_it_complete(tmp_path):
    source = make_official(tmp_path / "shared" / "gtsrb-tiny", {0: [0, 1], 5: [2]})
    (source / "README.md").write_text("about the data")
    dest = fetch(tmp_path / "main" / "data" / "gtsrb-tiny", source=source)
    copied = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    original = sorted(p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file())
    assert copied == sorted([*original, ".lrlab-source", ".complete"])
    # the same line as for the source folder itself, so a lesson prints the same summary either way
    assert (dest / ".lrlab-source").read_text() == "real GTSRB (official layout)\n"
    assert describe_source(dest) == describe_source(source)
    assert list((tmp_path / "main" / "data").iterdir()) == [dest]  # no temporary folder left


def test_a_copy_keeps_the_description_of_its_source(synthetic_dest, tmp_path):
    dest = fetch(tmp_path / "copy", source=synthetic_dest)
    assert describe_source(dest) == describe_source(synthetic_dest)
    assert describe_source(dest).startswith("SYNTHETIC")


def test_an_interrupted_fetch_leaves_nothing_behind(tmp_path, monkeypatch):
    source = make_official(tmp_path / "source", {0: [0, 1, 2]})
    copied = []

    def copy_then_fail(source_file, target_file):
        if len(copied) == 3:
            raise KeyboardInterrupt
        copied.append(Path(target_file).write_bytes(Path(source_file).read_bytes()))

    monkeypatch.setattr(fetching.shutil, "copyfile", copy_then_fail)
    with pytest.raises(KeyboardInterrupt):
        fetch(tmp_path / "data" / "gtsrb-tiny", source=source)
    assert list((tmp_path / "data").iterdir()) == []


def test_a_complete_dest_is_left_alone_unless_forced(tmp_path, capsys):
    source = make_official(tmp_path / "source", {0: [0]})
    dest = tmp_path / "gtsrb-tiny"
    dest.mkdir()
    (dest / ".complete").write_text("")
    (dest / ".lrlab-source").write_text("earlier data\n")
    fetch(dest, source=source)
    assert sorted(p.name for p in dest.iterdir()) == [".complete", ".lrlab-source"]
    assert "left alone (use --force to replace it)" in capsys.readouterr().out

    fetch(dest, source=source, force=True)
    assert (dest / "Final_Training").is_dir() and describe_source(
        dest
    ) == "real GTSRB (official layout)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gtsrb-tiny", "source"]


def test_a_dest_in_no_layout_is_kept_with_an_error_and_replaced_only_with_force(tmp_path):
    # a folder lrlab did not write (no .complete) and in no layout: fetch stops, changes nothing
    source = make_official(tmp_path / "source", {0: [0]})
    dest = tmp_path / "gtsrb-tiny"
    (dest / "half").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"not in a GTSRB layout .*found: half.*--force"):
        fetch(dest, source=source)
    assert [p.name for p in dest.iterdir()] == ["half"]
    fetch(dest, source=source, force=True)
    assert not (dest / "half").exists() and (dest / ".complete").is_file()


def test_command_line_fetch_and_its_errors(tmp_path, capsys):
    source = make_official(tmp_path / "source", {0: [0]})
    assert data.main(["fetch", "--dest", str(tmp_path / "dest"), "--source", str(source)]) == 0
    assert (tmp_path / "dest" / ".complete").is_file()
    assert (
        data.main(
            ["fetch", "--dest", str(tmp_path / "other"), "--source", str(tmp_path / "absent")]
        )
        == 1
    )
    assert f"source folder {tmp_path / 'absent'} does not exist" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()
    with pytest.raises(ValueError, match="at most one of --source, --archives and --synthetic"):
        fetch(tmp_path / "other", source=source, synthetic=True)


# --------------------------------------------------------------------------- the real tiny subset


@pytest.mark.skipif(not REAL_TINY.is_dir(), reason=f"{REAL_TINY} is absent (run `make data`)")
def test_real_tiny_subset_counts_and_split():
    # ../shared/data/gtsrb-tiny/README.md: 20 training images per class (860) and 5 test per class
    # (215); at validation_split 0.2 each class gives round(0.2 * 20) = 4 to validation:
    # 43 * 4 = 172 validation, 860 - 172 = 688 train.
    assert (
        len(list_images(REAL_TINY, "train")) == 860 and len(list_images(REAL_TINY, "test")) == 215
    )
    loaded = load_gtsrb(REAL_TINY, validation_split=0.2, seed=0, group_by_track=False)
    assert (loaded.num_train, loaded.num_validation, loaded.num_test) == (688, 172, 215)
    assert loaded.num_classes == 43
    validation_labels = np.concatenate([y.numpy() for _, y in loaded.validation])
    assert Counter(validation_labels.tolist()) == {label: 4 for label in range(43)}
    images, labels = next(iter(loaded.test))
    assert images.shape == (32, 32, 32, 3) and labels.shape == (32,)
    assert 0.0 <= float(images.numpy().min()) and float(images.numpy().max()) <= 1.0
    assert loaded.summary().endswith(
        ": 688 train / 172 validation / 215 test images, 32x32, 43 classes, "
        "validation split image by image"
    )
    # The default split moves whole tracks: the tiny subset's classes hold 5 to 20 tracks of
    # 1 to 4 frames, so each class gets whole tracks as close to its 4 as they allow.
    by_track = load_gtsrb(REAL_TINY, validation_split=0.2, seed=0)
    assert by_track.group_by_track and by_track.num_train + by_track.num_validation == 860
    per_class = Counter(np.concatenate([y.numpy() for _, y in by_track.validation]).tolist())
    assert set(per_class) == set(range(43)) and all(2 <= n <= 6 for n in per_class.values())

    records = list_images(REAL_TINY, "train")
    labels = [r.label for r in records]
    tracks = [r.track for r in records]
    train, validation = split_train_validation(labels, 0.2, seed=0, tracks=tracks)
    assert not {(labels[i], tracks[i]) for i in train} & {
        (labels[i], tracks[i]) for i in validation
    }
