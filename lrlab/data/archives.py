"""The official GTSRB archives: their addresses and MD5s, a checked download, a safe unzip.

The archives are those of the benchmark's site (J. Stallkamp et al., IJCNN 2011):
https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import tempfile
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from glob import escape as glob_escape
from pathlib import Path, PureWindowsPath

from tqdm import tqdm

from lrlab.data.locks import is_stale, lock

__all__ = [
    "ARCHIVE_BASE_URL",
    "DOWNLOAD_TIMEOUT_S",
    "TEST_GT_ARCHIVE",
    "TEST_IMAGES_ARCHIVE",
    "TRAINING_ARCHIVE",
    "Archive",
    "DownloadError",
    "download",
    "md5sum",
    "safe_extract",
]

DOWNLOAD_TIMEOUT_S = 15


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


class DownloadError(RuntimeError):
    """A download that failed: no network, an HTTP error, or a wrong checksum."""


def md5sum(path: str | os.PathLike) -> str:
    """The MD5 hex digest of a file (read in 1 MiB blocks)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _stream(url: str, out, digest, timeout: float, label: str) -> None:
    """Copy the body of ``url`` into ``out`` and ``digest``, with a progress bar."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=label) as progress:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    digest.update(chunk)
                    progress.update(len(chunk))
    except (OSError, http.client.HTTPException) as error:
        raise DownloadError(f"could not download {url}: {error}") from error


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
    remove_stale_parts(target)
    # Written by hand, not with lrlab.paths.atomic_file: the temporary file must be named
    # .<name>.<random>.part (the name remove_stale_parts looks for) and be flock-ed from its
    # creation, so that a later run can tell a killed download's leftover from one in use.
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    lock(handle)
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with os.fdopen(handle, "wb") as out:
            _stream(url, out, digest, timeout, target.name)
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


def archive_file(archive: Archive, archives: Path | None, downloads: Path) -> Path:
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


def remove_stale_parts(target: Path) -> None:
    """Remove the stale ``.<target name>.<random>.part`` files of ``download``."""
    if not target.parent.is_dir():
        return
    for part in target.parent.glob(f".{glob_escape(target.name)}.*.part"):
        if part.is_file() and not part.is_symlink() and is_stale(part):
            print(f"removing {part}, left by an interrupted download")
            part.unlink(missing_ok=True)


def open_zip(archive_path: str | os.PathLike) -> zipfile.ZipFile:
    """The zip archive at ``archive_path``; a ValueError naming it when it is not one."""
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
    with open_zip(archive_path) as archive:
        unsafe = [name for name in archive.namelist() if not _lands_inside(name)]
        if unsafe:
            raise ValueError(
                f"refusing to extract {archive_path}: {len(unsafe)} member(s) would land outside "
                f"{target} (absolute paths or '..'), e.g. {unsafe[0]!r}; nothing was extracted"
            )
        Path(target).mkdir(parents=True, exist_ok=True)
        archive.extractall(target, members=members)
