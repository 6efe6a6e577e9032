"""The labelled SYNTHETIC stand-in for the tiny subset, drawn with Pillow.

Used by ``fetch`` when neither a GTSRB copy nor a download is available (or when asked for):
the same layout and counts as the real tiny subset, so that the code runs end to end. Each
class's sign has the shape, colours and glyph of its real sign family (prohibitory circle,
warning triangle, ...); numbers computed on these images are not GTSRB results.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from lrlab.data.layout import NUM_CLASSES
from lrlab.data.subsets import TEST_PER_CLASS, Sample, save_image, write_official_layout
from lrlab.paths import atomic_file

__all__ = ["draw_synthetic_gtsrb"]

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
_README = (
    "# SYNTHETIC stand-in for the GTSRB tiny subset\n\n"
    "Drawn with Pillow by `python -m lrlab.data fetch` because no GTSRB copy or download was\n"
    "available. Same layout and counts as the real subset, but these are not GTSRB images:\n"
    "numbers computed on them are not GTSRB results. For the real data:\n"
    "`python -m lrlab.data fetch --dest <this folder> --force` with network access,\n"
    "or with --source path/to/gtsrb.\n"
)


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


def _paste_glyph(sign: Image.Image, glyph: str, shape: str, ink) -> None:
    """``glyph`` in ``ink``, scaled into the middle of the sign (lower in a triangle)."""
    size = _TEMPLATE_SIZE
    mask = Image.new("L", (64 * len(glyph) + 32, 96))
    ImageDraw.Draw(mask).text((8, 8), glyph, fill=255, font=ImageFont.load_default(size=64))
    mask = mask.crop(mask.getbbox())
    box_width, box_height = 0.5 * size, (0.28 if "triangle" in shape else 0.38) * size
    scale = min(box_width / mask.width, box_height / mask.height)
    mask = mask.resize((max(1, round(mask.width * scale)), max(1, round(mask.height * scale))))
    top = round((0.6 if shape == "triangle" else 0.5) * size - mask.height / 2)
    sign.paste(Image.new("RGBA", mask.size, ink), ((size - mask.width) // 2, top), mask)


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
        _paste_glyph(sign, glyph, shape, ink)
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


def _drawn_sample(label: int, track: int, frame: int, image: Image.Image, roi) -> Sample:
    return Sample(
        label,
        f"{track:05d}_{frame:05d}.ppm",
        image.size,
        roi,
        lambda path: save_image(image, path, "PPM"),
    )


def _class_samples(label: int, seed: int) -> tuple[list[Sample], list[Sample]]:
    """The training and test samples of one class: 5 tracks of 4 frames, and one frame of
    each of 5 other tracks."""
    template = _sign_template(label)
    train, test = [], []
    for track in range(_SYNTHETIC_TRAIN_TRACKS):
        for frame, image, roi in _synthetic_track(
            template, label, track, _SYNTHETIC_TRAIN_FRAMES, seed
        ):
            train.append(_drawn_sample(label, track, frame, image, roi))
    for track in range(_SYNTHETIC_TRAIN_TRACKS, _SYNTHETIC_TRAIN_TRACKS + _SYNTHETIC_TEST_TRACKS):
        frame = int(np.random.default_rng([seed, label, track, 1]).integers(_FRAMES_PER_TRACK))
        for _, image, roi in _synthetic_track(template, label, track, [frame], seed):
            test.append(_drawn_sample(label, track, frame, image, roi))
    return train, test


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
        class_train, class_test = _class_samples(label, seed)
        train += class_train
        test += class_test
    write_official_layout(dest, train, test, seed)
    with atomic_file(dest / "README.md", "w", encoding="utf-8") as stream:
        stream.write(_README)
    return dest
