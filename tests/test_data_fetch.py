"""Tests of lrlab.data's data-location rule, of ``fetch`` (never losing data, subsets, faults)
and of reading robustness (issues 10 and 11).

Each test states its input and the outcome it expects. Fixture folders are drawn with Pillow
by the helpers of test_data.py (solid colours that encode class, track and frame).
"""

from __future__ import annotations

import hashlib
import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_data import (
    GT_COLUMNS,
    REAL_TINY,
    colour_of,
    make_class_folders,
    make_official,
    make_training_archive,
    save_image,
    write_csv,
)

from lrlab import data
from lrlab.data import fetch, fetching, find_gtsrb, list_images, load_arrays, load_gtsrb

ROOT = Path(__file__).resolve().parents[1]


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) by relative path, with its SHA-256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def leftovers(folder: Path) -> list[str]:
    """The names lrlab gives its temporary files and folders, found anywhere under ``folder``."""
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.name.endswith((".partial", ".part", ".old")) or p.name == ".unpacked"
    )


@pytest.fixture
def outside_a_checkout(tmp_path, monkeypatch):
    """The working directory is an empty folder (as /content on Colab): it is the project root."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LRLAB_DATA_DIR", raising=False)
    return tmp_path


def upload_tiny(folder: Path) -> Path:
    """The real tiny subset copied by hand into ``folder``: no .complete, no .lrlab-source."""
    shutil.copytree(
        REAL_TINY, folder, ignore=shutil.ignore_patterns(data.COMPLETE_FILE, data.SOURCE_FILE)
    )
    return folder


needs_real_tiny = pytest.mark.skipif(
    not (REAL_TINY / "Final_Training").is_dir(), reason=f"{REAL_TINY} is absent"
)


# ---------------------------------------------------------------- the data-location rule (issue 10)


@needs_real_tiny
def test_data_uploaded_to_the_default_folder_is_used_intact(outside_a_checkout, capsys):
    # issue 10, "done when": an upload without a marker in the default folder, then the first
    # cell's fetch (find_gtsrb, and fetch of the default dest): the upload is intact and read
    upload = upload_tiny(outside_a_checkout / "data" / "gtsrb-tiny")
    before = tree(upload)
    assert find_gtsrb() == upload
    fetch(upload)
    assert "used as it is" in capsys.readouterr().out
    assert data.main(["fetch", "--dest", "data/gtsrb-tiny"]) == 0
    assert tree(upload) == before  # same files, same bytes, no .complete written into it
    loaded = load_gtsrb()
    assert loaded.data_dir == upload and loaded.data_rule == "default"
    # counts: the default track split of the real tiny subset (860 train / 215 test images),
    # the same as load_gtsrb(REAL_TINY) gives; the folder is named relative to the project root
    assert loaded.summary() == (
        "Data: real GTSRB (official layout) in data/gtsrb-tiny (the default folder): 695 train / "
        "165 validation / 215 test images, 32x32, 43 classes, validation split by track"
    )
    assert tree(upload) == before


def test_a_missing_default_folder_is_fetched_on_first_use_and_said(
    outside_a_checkout, monkeypatch, capsys
):
    # no data anywhere and no network: find_gtsrb fetches into the default folder (here the
    # stand-in, replaced by a 1-class official layout to keep the test fast) and says so
    monkeypatch.setattr(
        fetching,
        "TRAINING_ARCHIVE",
        data.Archive("x.zip", (outside_a_checkout / "none").as_uri(), "0"),
    )
    monkeypatch.setattr(
        fetching, "draw_synthetic_gtsrb", lambda dest, seed: make_official(dest, {0: [0, 1]})
    )
    with pytest.raises(FileNotFoundError, match=r"python -m lrlab\.data fetch --dest .*gtsrb-tiny"):
        find_gtsrb(fetch=False)
    assert not (outside_a_checkout / "data").exists()
    folder = find_gtsrb()
    assert folder == outside_a_checkout / "data" / "gtsrb-tiny"
    assert (folder / ".complete").is_file()
    out = capsys.readouterr().out
    assert "No GTSRB data at" in out and "(the default folder) yet: fetching" in out
    assert find_gtsrb() == folder and "fetching" not in capsys.readouterr().out  # only once


def test_lrlab_data_dir_is_named_in_the_summary(tmp_path, monkeypatch):
    # LRLAB_DATA_DIR set: load_gtsrb() reads it and the summary says which rule chose it
    chosen = make_official(tmp_path / "mine", {0: [0, 1], 1: [0, 1]})
    monkeypatch.setenv("LRLAB_DATA_DIR", str(chosen))
    assert find_gtsrb() == chosen
    loaded = load_gtsrb(image_size=4)
    assert loaded.data_rule == "LRLAB_DATA_DIR"
    assert loaded.summary().startswith(
        f"Data: real GTSRB (official layout) in {chosen} (LRLAB_DATA_DIR): "
    )


def test_find_gtsrb_on_a_folder_in_no_layout_says_what_it_found(outside_a_checkout):
    # the default folder holds notes.txt only: an error that names it, the folder untouched
    folder = outside_a_checkout / "data" / "gtsrb-tiny"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(ValueError) as raised:
        find_gtsrb()
    message = str(raised.value)
    assert "(the default folder) holds no GTSRB data" in message and "found: notes.txt" in message
    assert "python -m lrlab.data fetch --dest" in message and "LRLAB_DATA_DIR" in message
    assert "make data" not in message and "README" not in message
    assert tree(folder) == {"notes.txt": hashlib.sha256(b"mine").hexdigest()}
    with pytest.raises(TypeError, match="fetch must be True or False, got 'yes'"):
        find_gtsrb("yes")


# ---------------------------------------------------------------- fetch never loses data (B)


def test_fetch_keeps_a_folder_in_a_gtsrb_layout_it_did_not_write(tmp_path, capsys):
    # dest: a valid class-folder layout without .complete; fetch from a source keeps it as it is
    source = make_official(tmp_path / "source", {0: [0, 1]})
    mine = make_class_folders(tmp_path / "mine" / "train", {3: 4}).parent
    before = tree(mine)
    assert fetch(mine, source=source) == mine
    assert "holds GTSRB data lrlab did not write (class-folder layout, 4 training" in (
        capsys.readouterr().out
    )
    assert tree(mine) == before
    fetch(mine, source=source, force=True)  # --force, only then, replaces it
    assert (mine / ".complete").is_file() and not (mine / "train").exists()


def test_fetch_never_replaces_a_file_even_with_force(tmp_path):
    target = tmp_path / "gtsrb-tiny"
    target.write_text("my notes")
    source = make_official(tmp_path / "source", {0: [0]})
    for force in (False, True):
        with pytest.raises(ValueError, match=r"gtsrb-tiny is a file, not a folder.*another --dest"):
            fetch(target, source=source, force=force)
    assert target.read_text() == "my notes"


@pytest.mark.parametrize("where", ["dest holds source", "dest is source", "source holds dest"])
def test_fetch_refuses_a_dest_that_overlaps_the_source_even_with_force(tmp_path, where):
    # issue 11 item 1: `--dest proj --source proj/mydata` used to delete the source
    project = tmp_path / "proj"
    source = make_official(project / "mydata", {0: [0, 1]})
    dest = {"dest holds source": project, "dest is source": source}.get(where, source / "sub")
    before = tree(project)
    with pytest.raises(ValueError, match=r"overlap \(one is or holds the other\)"):
        fetch(dest, source=source, force=True)
    assert tree(project) == before
    assert data.main(["fetch", "--dest", str(dest), "--source", str(source), "--force"]) == 1
    assert tree(project) == before


def test_fetch_refuses_to_force_through_a_symbolic_link(tmp_path):
    real = make_official(tmp_path / "real", {0: [0]})
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    before = tree(real)
    with pytest.raises(ValueError, match="is a symbolic link: --force would replace the link"):
        fetch(link, source=make_official(tmp_path / "source", {1: [0]}), force=True)
    assert link.is_symlink() and tree(real) == before


def test_fetch_fills_an_empty_folder(tmp_path):
    dest = tmp_path / "gtsrb-tiny"
    dest.mkdir()
    fetch(dest, source=make_official(tmp_path / "source", {0: [0]}))
    assert (dest / ".complete").is_file() and list_images(dest)


@pytest.mark.parametrize("fault", ["listed image missing", "image does not decode"])
def test_a_broken_source_is_not_marked_complete(tmp_path, fault):
    # the source's layout reads, but what was copied is not usable: no dest, no .partial left
    source = make_official(tmp_path / "source", {0: [0]})
    first = source / "Final_Training" / "Images" / "00000" / "00000_00000.ppm"
    if fault == "listed image missing":
        first.unlink()
    else:
        first.write_bytes(b"not an image")
    with pytest.raises((ValueError, FileNotFoundError), match="00000_00000.ppm"):
        fetch(tmp_path / "data" / "gtsrb-tiny", source=source)
    assert list((tmp_path / "data").iterdir()) == []


def test_an_upper_case_md5_matches(tmp_path):
    # the same digest written in upper case is the same checksum (it used to read as a mismatch)
    served = tmp_path / "served.bin"
    served.write_bytes(b"gtsrb bytes")
    digest = hashlib.md5(b"gtsrb bytes").hexdigest().upper()
    target = data.download(served.as_uri(), tmp_path / "downloads" / "served.bin", digest)
    assert target.read_bytes() == b"gtsrb bytes"


def test_a_non_zip_archive_is_a_one_line_error_naming_it(tmp_path, monkeypatch, capsys):
    # a file with the right MD5 that is not a zip: the CLI exits 1 with one line, no traceback
    fake = tmp_path / "served" / "GTSRB-Training_fixed.zip"
    fake.parent.mkdir()
    fake.write_bytes(b"<html>not a zip</html>")
    monkeypatch.setattr(
        fetching, "TRAINING_ARCHIVE", data.Archive(fake.name, fake.as_uri(), data.md5sum(fake))
    )
    assert data.main(["fetch", "--dest", str(tmp_path / "data" / "gtsrb-tiny")]) == 1
    err = capsys.readouterr().err  # the download's progress bar, then the error
    assert "Traceback" not in err and err.count("error: ") == 1
    last = err.rstrip("\n").split("\n")[-1]
    assert last.startswith("error: ") and "GTSRB-Training_fixed.zip is not a zip archive" in last
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["downloads"]
    assert leftovers(tmp_path / "data") == []


def test_stale_leftovers_of_lrlab_are_removed_and_nothing_else(tmp_path):
    # names lrlab gives, older than this process and not locked, go; other names stay
    parent = tmp_path / "data"
    stale_build = parent / ".gtsrb-tiny.0123abcd.partial"
    stale_part = parent / "downloads" / ".GTSRB-Training_fixed.zip.k2j4_x9a.part"
    kept = [parent / ".gtsrb-tiny.mine.partial", parent / "notes.partial", parent / "x.part"]
    for folder in (stale_build, kept[0], kept[1]):
        folder.mkdir(parents=True)
    for file in (stale_part, kept[2]):
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(b"half")
    for path in (stale_build, stale_part, *kept):
        os.utime(path, (time.time() - 3600,) * 2)
    fetch(parent / "gtsrb-tiny", source=make_official(tmp_path / "source", {0: [0]}))
    assert not stale_build.exists() and not stale_part.exists()
    assert all(path.exists() for path in kept)


def test_a_stale_build_locked_by_a_running_fetch_is_kept(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    running = tmp_path / "data" / ".gtsrb-tiny.89abcdef.partial"
    running.mkdir(parents=True)
    os.utime(running, (time.time() - 3600,) * 2)
    handle = os.open(running, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        fetch(tmp_path / "data" / "gtsrb-tiny", source=make_official(tmp_path / "src", {0: [0]}))
        assert running.is_dir()
    finally:
        os.close(handle)


class _Trickle(http.server.BaseHTTPRequestHandler):
    """Serves ``server.payload``; slowly (64 bytes every 20 ms) while ``server.slow``."""

    def do_GET(self):  # noqa: N802 (the http.server name)
        payload = self.server.payload
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        step = 64 if self.server.slow else len(payload)
        try:
            for start in range(0, len(payload), step):
                self.wfile.write(payload[start : start + step])
                if self.server.slow:
                    time.sleep(0.02)
        except OSError:  # the client was killed
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def trickle_server(tmp_path):
    archive = make_training_archive(tmp_path / "served" / "GTSRB-Training_fixed.zip")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    server.payload, server.slow = archive.read_bytes(), True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, archive
    server.shutdown()
    server.server_close()


def _child_fetch(url: str, md5: str, dest: Path) -> subprocess.Popen:
    """``python -m lrlab.data fetch --dest DEST`` in a child, its archive address set to ``url``."""
    code = (
        "import sys, lrlab.data as d, lrlab.data.fetching as f; "
        f"f.TRAINING_ARCHIVE = d.Archive('GTSRB-Training_fixed.zip', {url!r}, {md5!r}); "
        "sys.exit(d.main(sys.argv[1:]))"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, "fetch", "--dest", str(dest)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_fetch_leaves_nothing_after_the_next_run(tmp_path, trickle_server, signal_number):
    # a child fetch downloading from a server that trickles bytes is sent the signal once its
    # .part and .partial exist; a second fetch then completes and no stale file survives
    server, archive = trickle_server
    url = f"http://127.0.0.1:{server.server_address[1]}/GTSRB-Training_fixed.zip"
    md5 = data.md5sum(archive)
    parent = tmp_path / "data"
    child = _child_fetch(url, md5, parent / "gtsrb-tiny")
    deadline = time.monotonic() + 60
    # (the .part stays empty until the whole archive is read: read(1 MiB) waits for it)
    building, downloading = ".gtsrb-tiny.*.partial", "downloads/.GTSRB-Training_fixed.zip.*.part"
    while not (list(parent.glob(building)) and list(parent.glob(downloading))):
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()
        time.sleep(0.02)
    child.send_signal(signal_number)
    child.communicate(timeout=60)
    assert child.returncode in (-signal_number, 128 + signal_number)
    if signal_number == signal.SIGKILL:  # nothing could clean up: the leftovers are there
        assert leftovers(parent)
    assert not (parent / "gtsrb-tiny").exists()

    server.slow = False
    again = _child_fetch(url, md5, parent / "gtsrb-tiny")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert leftovers(parent) == []
    assert sorted(p.name for p in parent.iterdir()) == ["downloads", "gtsrb-tiny"]
    assert [p.name for p in (parent / "downloads").iterdir()] == [archive.name]
    assert (parent / "gtsrb-tiny" / ".complete").is_file()
    assert Counter(r.label for r in list_images(parent / "gtsrb-tiny")) == {0: 20, 1: 20, 2: 20}


# ---------------------------------------------------------------- subsets tiny | small | full (C)


def official_source(root: Path, classes=(0, 1, 2), tracks=8, frames=30) -> Path:
    """A fake official layout (Final_Training with GT csvs), ``tracks`` x ``frames`` per class."""
    return make_official(root, {label: list(range(tracks)) for label in classes}, frames=frames)


def check_small(dest: Path, classes) -> None:
    """``dest`` is a small set: 100 train / 30 test per class, PNG under track names, by track."""
    train, test = list_images(dest, "train"), list_images(dest, "test")
    assert Counter(r.label for r in train) == {label: 100 for label in classes}
    assert Counter(r.label for r in test) == {label: 30 for label in classes}
    assert all(r.path.suffix == ".png" and r.track is not None for r in train + test)
    assert {p.name for p in dest.iterdir()} >= {"train", "test", "signnames.csv"}
    assert not {(r.label, r.track) for r in train} & {(r.label, r.track) for r in test}
    # a record's image is the source frame it is named after (solid colour kept by the PNG)
    x, y = load_arrays(dest, "train", image_size=2)
    for image, record in zip(x[::37], train[::37], strict=True):
        frame = int(record.path.stem.split("_")[1])
        expected = np.array(colour_of(record.label, int(record.track), frame)) / 255
        np.testing.assert_allclose(image[0, 0], expected, atol=1e-6)
    loaded = load_gtsrb(dest, image_size=4, crop_roi=True)  # ROIs kept in the class csvs
    assert loaded.group_by_track and loaded.summary().endswith("validation split by track")
    assert loaded.num_train + loaded.num_validation == 100 * len(classes)


def test_fetch_small_from_a_local_official_layout(tmp_path):
    # issue 10, "done when": 3 classes of 8 tracks x 30 frames; per class ceil(0.2 * 8) = 2
    # tracks are held out: 100 training images over the 6 others, 30 test images over the 2
    source = official_source(tmp_path / "official")
    dest = fetch(tmp_path / "data" / "gtsrb-small", source=source, subset="small", seed=0)
    check_small(dest, (0, 1, 2))
    assert (dest / ".lrlab-source").read_text() == (
        "real GTSRB (official layout), small subset (seed 0)\n"
    )
    # the same seed holds out the same tracks as the tiny subset: tiny's test images (numbered
    # files, their track read back from the colour) come from small's test tracks
    tiny = fetch(tmp_path / "data" / "gtsrb-tiny", source=source, subset="tiny", seed=0)
    x_tiny, y_tiny = load_arrays(tiny, "test", image_size=2)
    tiny_test_tracks = {
        (int(label), round((float(image[0, 0, 1]) * 255 - 10) / 30))
        for image, label in zip(x_tiny, y_tiny, strict=True)
    }
    small_test_tracks = {(r.label, int(r.track)) for r in list_images(dest, "test")}
    assert len(y_tiny) == 15 and tiny_test_tracks <= small_test_tracks


def test_fetch_small_and_full_from_local_archives(tmp_path, monkeypatch, capsys):
    # --archives DIR holding the three official zips (fakes: their MD5s are patched in)
    archives = tmp_path / "archives"
    make_training_archive(
        archives / "GTSRB-Training_fixed.zip", classes=(0, 4), tracks=8, frames=30
    )
    with zipfile.ZipFile(archives / "GTSRB_Final_Test_Images.zip", "w") as opened:
        for number in range(3):
            scratch = tmp_path / "scratch.ppm"
            Image.new("RGB", (7, 6), colour_of(4, 7, number)).save(scratch)
            opened.write(scratch, f"GTSRB/Final_Test/Images/{number:05d}.ppm")
        opened.writestr("GTSRB/Final_Test/Images/GT-final_test.test.csv", "Filename;Width\r\n")
    rows = [f"{number:05d}.ppm;7;6;1;1;5;4;4" for number in range(3)]
    with zipfile.ZipFile(archives / "GTSRB_Final_Test_GT.zip", "w") as opened:
        opened.writestr("GT-final_test.csv", "\r\n".join([";".join(GT_COLUMNS), *rows]) + "\r\n")
    for name in ("TRAINING_ARCHIVE", "TEST_IMAGES_ARCHIVE", "TEST_GT_ARCHIVE"):
        archive = getattr(data, name)
        digest = data.md5sum(archives / archive.name).upper()
        monkeypatch.setattr(fetching, name, data.Archive(archive.name, "http://0.0.0.0/", digest))

    args = ["fetch", "--subset", "small", "--archives", str(archives)]
    assert data.main([*args, "--dest", str(tmp_path / "data" / "gtsrb-small")]) == 0
    check_small(tmp_path / "data" / "gtsrb-small", (0, 4))
    full = tmp_path / "data" / "gtsrb-full"
    args = ["fetch", "--subset", "full", "--archives", str(archives), "--dest", str(full)]
    assert data.main(args) == 0, capsys.readouterr().err
    assert Counter(r.label for r in list_images(full, "train")) == {0: 240, 4: 240}
    assert [r.label for r in list_images(full, "test")] == [4, 4, 4]
    assert (full / ".lrlab-source").read_text() == "real GTSRB, the full official archives\n"
    assert leftovers(tmp_path / "data") == [] and not (tmp_path / "data" / "downloads").exists()
    assert tree(archives)  # the archives are still there

    (archives / "GTSRB_Final_Test_GT.zip").write_bytes(b"damaged")
    other = tmp_path / "data" / "other"
    assert data.main(["fetch", "--subset", "full", "--archives", str(archives), "--dest",
                      str(other)]) == 1  # fmt: skip
    assert "GTSRB_Final_Test_GT.zip has MD5" in capsys.readouterr().err
    assert not other.exists() and leftovers(tmp_path / "data") == []


def test_small_without_network_is_an_error_not_the_stand_in(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        fetching, "TRAINING_ARCHIVE", data.Archive("x.zip", (tmp_path / "none").as_uri(), "0" * 32)
    )
    dest = tmp_path / "data" / "gtsrb-small"
    assert data.main(["fetch", "--subset", "small", "--dest", str(dest)]) == 1
    err = capsys.readouterr().err
    assert "The small set needs the official archives" in err and "--archives" in err
    assert not dest.exists()
    with pytest.raises(ValueError, match="subset must be one of tiny, small, full, got 'huge'"):
        fetch(dest, subset="huge")
    with pytest.raises(ValueError, match="stand-in is of the tiny subset only"):
        fetch(dest, subset="small", synthetic=True)


# ---------------------------------------------------------------- reading robustness (issue 11)


def test_16_bit_pngs_decode_scaled_to_8_bits(tmp_path):
    # solid 16-bit grey PNGs (Pillow mode I;16): v reads back as round(v / 257), not clipped to 255
    values = {0: 1000, 1: 30000, 2: 65535}
    for label, value in values.items():
        path = tmp_path / "gtsrb" / f"{label:05d}" / "00000_00000.png"
        path.parent.mkdir(parents=True)
        Image.fromarray(np.full((6, 5), value, dtype=np.uint16)).save(path)
        assert Image.open(path).mode == "I;16"
    x, y = load_arrays(tmp_path / "gtsrb", "train", image_size=3)
    expected = {label: round(value / 257) for label, value in values.items()}  # 4, 117, 255
    for image, label in zip(x, y, strict=True):
        np.testing.assert_allclose(image, expected[int(label)] / 255, atol=1e-6)


def test_a_row_listed_twice_in_a_gt_csv_is_an_error_naming_it(tmp_path):
    root = make_official(tmp_path / "gtsrb", {0: [0, 1]}, test_csv=None)
    csv_path = root / "Final_Training" / "Images" / "00000" / "GT-00000.csv"
    rows = [line.split(";") for line in csv_path.read_text().splitlines()[1:]]
    write_csv(csv_path, [*rows, rows[0]])
    with pytest.raises(ValueError, match=r"GT-00000.csv, line 6: 00000_00000.ppm is listed twice"):
        load_gtsrb(root)


def test_two_folders_of_one_class_are_an_error_naming_both(tmp_path):
    root = make_class_folders(tmp_path / "gtsrb", {1: 3})
    save_image(root / "1" / "00005_00000.png", colour_of(1, 5))
    with pytest.raises(ValueError, match=r"class folders .*00001 and .*/1 are both class 1"):
        list_images(root)


def test_a_decompression_bomb_is_an_error_naming_the_file(tmp_path, monkeypatch):
    # Pillow refuses images over 2 * MAX_IMAGE_PIXELS: 12 x 10 = 120 pixels > 2 * 50
    root = make_class_folders(tmp_path / "gtsrb", {0: 1})
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)
    with pytest.raises(ValueError, match=r"cannot read image .*00000_00000\.png"):
        load_arrays(root)


def test_a_latin_1_csv_is_an_error_naming_it_and_the_encoding(tmp_path):
    root = make_official(tmp_path / "gtsrb", {0: [0]}, test_csv=None)
    csv_path = root / "Final_Training" / "Images" / "00000" / "GT-00000.csv"
    csv_path.write_bytes(
        csv_path.read_bytes() + "stra\xdfe.ppm;1;1;0;0;1;1;0\r\n".encode("latin-1")
    )
    with pytest.raises(ValueError, match=r"GT-00000.csv is not UTF-8 text .*save it as UTF-8"):
        list_images(root)


def test_a_previous_dest_left_by_a_killed_force_is_put_back(tmp_path, capsys):
    # a fetch --force killed between its two renames leaves the old dest as .<dest>.<hex>.old
    # and no dest: the next fetch puts it back (it is complete, so it is then left alone)
    old = make_official(tmp_path / "data" / ".gtsrb-tiny.0123abcd.old", {0: [0]})
    (old / ".complete").write_text("")
    (old / ".lrlab-source").write_text("earlier data\n")
    os.utime(old, (time.time() - 3600,) * 2)
    before = tree(old)
    dest = fetch(tmp_path / "data" / "gtsrb-tiny", source=make_official(tmp_path / "s", {1: [0]}))
    assert "putting back" in capsys.readouterr().out
    assert tree(dest) == before and not old.exists()


# ------------------------------------------------- round 2 (probes): broken sources, --force


@pytest.mark.parametrize("fault", ["truncated to 40 bytes", "missing"])
def test_a_broken_image_past_the_first_is_named_in_the_source(tmp_path, capsys, fault):
    # input: an official-layout source whose class-1 image 00001_00001.ppm (not the first image,
    # which was all validation decoded before) is cut to 40 bytes or deleted (its csv line
    # kept). Expected: exit 1, the error names the SOURCE's file (not the .partial copy) and says
    # what to do; no dest, no .partial, nothing marked .complete. Failed before: the truncated
    # image gave exit 0 and .complete; the missing one was named under the .partial copy.
    source = make_official(tmp_path / "source", {0: [0], 1: [0, 1]})
    bad = source / "Final_Training" / "Images" / "00001" / "00001_00001.ppm"
    if fault == "missing":
        bad.unlink()
    else:
        bad.write_bytes(bad.read_bytes()[:40])
    dest = tmp_path / "data" / "gtsrb"
    assert data.main(["fetch", "--dest", str(dest), "--source", str(source)]) == 1
    error = capsys.readouterr().err
    assert str(bad) in error and ".partial" not in error
    assert f"replace or remove that file in {source}" in error
    assert list((tmp_path / "data").iterdir()) == []


def test_validate_gtsrb_decode_all_finds_a_truncated_image(tmp_path):
    # input: a class-folder layout whose second image of class 0 is cut to 40 bytes.
    # Expected: validate_gtsrb passes by default (it decodes the first image only) and raises
    # ValueError naming the file with decode_all=True.
    root = make_class_folders(tmp_path / "gtsrb" / "train", {0: 3}).parent
    bad = sorted((root / "train" / "00000").glob("*.png"))[1]
    bad.write_bytes(bad.read_bytes()[:40])
    assert data.validate_gtsrb(root).startswith("class-folder layout")
    with pytest.raises(ValueError, match=rf"cannot decode image .*{bad.name}"):
        data.validate_gtsrb(root, decode_all=True)


def test_force_moves_a_folder_lrlab_did_not_write_aside(tmp_path, capsys):
    # input: `fetch --dest mine --source gtsrb --force` where mine/ holds only the user's
    # notes.txt (no .complete). Expected (issue 10 + round 2): mine/ becomes the fetched data and
    # the user's folder is renamed, intact, to a sibling mine.replaced-<timestamp>, printed.
    # Failed before: notes.txt was deleted.
    source = make_official(tmp_path / "gtsrb", {0: [0]})
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my thesis notes")
    assert data.main(["fetch", "--dest", str(mine), "--source", str(source), "--force"]) == 0
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("mine.replaced-")]
    assert len(aside) == 1 and (aside[0] / "notes.txt").read_text() == "my thesis notes"
    assert str(aside[0]) in capsys.readouterr().out
    assert (mine / ".complete").is_file() and not (mine / "notes.txt").exists()
    assert leftovers(tmp_path) == []


def test_force_replaces_a_folder_lrlab_wrote_without_a_copy(tmp_path):
    # input: dest fetched by lrlab (.complete), fetched again with --force from another source.
    # Expected: replaced in place as before, with no <dest>.replaced-* sibling and no leftovers.
    dest = fetch(tmp_path / "gtsrb-tiny", source=make_official(tmp_path / "a", {0: [0]}))
    fetch(dest, source=make_official(tmp_path / "b", {1: [0]}), force=True)
    assert {r.label for r in list_images(dest)} == {1}
    assert [p for p in tmp_path.iterdir() if ".replaced-" in p.name] == []
    assert leftovers(tmp_path) == []
