"""GTSRB for the lessons: find it, read it, split it, serve it as ``tf.data``, and fetch it.

The data is the German Traffic Sign Recognition Benchmark, 43 classes (J. Stallkamp,
M. Schlipsing, J. Salmen, C. Igel, "The German Traffic Sign Recognition Benchmark:
A multi-class classification competition", IJCNN 2011).

Two readers, two halves. Reading, for the lessons:

- ``layout``: the class names, the two folder layouts (official, class folders), the image
  lists (``list_images``, ``describe_source``);
- ``images``: decoding (``decode_images``, ``load_arrays``) and ``validate_gtsrb``;
- ``pipeline``: the data-location rule (``find_gtsrb``), the split by track
  (``split_train_validation``) and ``load_gtsrb`` with its ``GTSRBData.summary()``.

Supplying it, for ``fetch``:

- ``archives``: the official archives, ``download`` (MD5-checked), ``safe_extract``;
- ``subsets``: the tiny and small subsets chosen by track, and the writers of both layouts;
- ``synthetic``: the labelled SYNTHETIC stand-in drawn with Pillow;
- ``locks``: telling a killed run's leftovers from a running one's;
- ``fetching``: ``fetch`` itself; ``cli``: ``python -m lrlab.data fetch``.

Where the data is (``find_gtsrb``): ``$LRLAB_DATA_DIR`` if set, else ``data/gtsrb-tiny`` under
the project root (the checkout, else the working directory), fetched on first use.
``load_gtsrb()`` without a folder follows this rule; ``list_images``, ``load_arrays`` and
``describe_source`` without one read the same folder but fetch nothing.

``python -m lrlab.data fetch --dest DIR [--subset tiny|small|full] [--source DIR | --archives DIR
| --synthetic] [--seed 0] [--force]`` fills ``DIR`` (see ``fetch``); it never deletes data
lrlab did not write unless ``--force`` says so.
"""

from lrlab.data.archives import (
    ARCHIVE_BASE_URL,
    DOWNLOAD_TIMEOUT_S,
    TEST_GT_ARCHIVE,
    TEST_IMAGES_ARCHIVE,
    TRAINING_ARCHIVE,
    Archive,
    DownloadError,
    download,
    md5sum,
    safe_extract,
)
from lrlab.data.cli import main
from lrlab.data.fetching import fetch
from lrlab.data.images import decode_images, load_arrays, validate_gtsrb
from lrlab.data.layout import (
    CLASS_NAMES,
    COMPLETE_FILE,
    GT_COLUMNS,
    IMAGE_EXTENSIONS,
    NUM_CLASSES,
    SOURCE_FILE,
    ImageRecord,
    describe_source,
    list_images,
)
from lrlab.data.pipeline import GTSRBData, find_gtsrb, load_gtsrb, split_train_validation
from lrlab.data.subsets import (
    HELD_OUT_TRACK_FRACTION,
    SMALL_TEST_PER_CLASS,
    SMALL_TRAIN_PER_CLASS,
    SUBSETS,
    TEST_PER_CLASS,
    TRAIN_PER_CLASS,
    select_tiny_subset,
)
from lrlab.data.synthetic import draw_synthetic_gtsrb

__all__ = [
    "ARCHIVE_BASE_URL",
    "CLASS_NAMES",
    "COMPLETE_FILE",
    "DOWNLOAD_TIMEOUT_S",
    "GT_COLUMNS",
    "HELD_OUT_TRACK_FRACTION",
    "IMAGE_EXTENSIONS",
    "NUM_CLASSES",
    "SMALL_TEST_PER_CLASS",
    "SMALL_TRAIN_PER_CLASS",
    "SOURCE_FILE",
    "SUBSETS",
    "TEST_GT_ARCHIVE",
    "TEST_IMAGES_ARCHIVE",
    "TEST_PER_CLASS",
    "TRAINING_ARCHIVE",
    "TRAIN_PER_CLASS",
    "Archive",
    "DownloadError",
    "GTSRBData",
    "ImageRecord",
    "decode_images",
    "describe_source",
    "download",
    "draw_synthetic_gtsrb",
    "fetch",
    "find_gtsrb",
    "list_images",
    "load_arrays",
    "load_gtsrb",
    "main",
    "md5sum",
    "safe_extract",
    "select_tiny_subset",
    "split_train_validation",
    "validate_gtsrb",
]
