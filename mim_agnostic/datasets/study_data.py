"""A harder generated ImageNet for the CPU evaluation study (tools/study/).

Class = outline x texture of the one large object (8 outlines x 6 textures, up to 48
classes). What makes it hard: the object's size, rotation, position, colours and texture
period vary; the background carries a faint texture of a random kind; 1-3 smaller distractor
objects of *other* classes sit in the clutter; a global colour jitter (per-channel gain and
offset) and pixel noise change every image. The object is always the largest shape and drawn
last, so the label is decidable from the pixels. Drawn from the demo data's shape and texture
helpers, in the real ImageNet layout; each image is a function of (seed, split, class, index).
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict

import numpy as np
from tqdm import tqdm

from .demo_data import (OUTLINES, PATTERNS, color_texture, fill_polygon, image_rng,
                        outline_polygon, smooth_background, write_imagenet_layout)

STUDY_SHAPES = tuple(OUTLINES)
STUDY_TEXTURES = PATTERNS
MAX_STUDY_CLASSES = len(STUDY_SHAPES) * len(STUDY_TEXTURES)


@dataclass
class StudySizes:
    """How much to generate. The defaults: 32 classes, 4800 train and 1600 val images of
    72 px (the study crops 64 px)."""
    num_classes: int = 32
    train_per_class: int = 150
    val_per_class: int = 50
    image_size: int = 72
    max_distractors: int = 3


def study_class_name(label: int) -> str:
    """'<outline>_<texture>' of class ``label``, e.g. 'pentagon_grid'."""
    return (f'{STUDY_SHAPES[label % len(STUDY_SHAPES)]}_'
            f'{STUDY_TEXTURES[label // len(STUDY_SHAPES)]}')


def paint_object(image: np.ndarray, label: int, center, radius: float,
                 rng: np.random.Generator) -> None:
    """Class ``label``'s outline at ``center``/``radius``, random rotation, filled (in place)
    with its texture in random colours and period."""
    polygon = outline_polygon(STUDY_SHAPES[label % len(STUDY_SHAPES)], center, radius,
                              rng.uniform(0, 2 * np.pi))
    fill = color_texture(STUDY_TEXTURES[label // len(STUDY_SHAPES)], rng, *image.shape[:2],
                         period_range=(4, 9))
    fill_polygon(image, polygon, fill)


def textured_background(rng: np.random.Generator, side: int) -> np.ndarray:
    """(side, side, 3) uint8: a smooth gradient with a faint texture of a random kind."""
    base = smooth_background(rng, side, side).astype(np.float32)
    kind = STUDY_TEXTURES[int(rng.integers(1, len(STUDY_TEXTURES)))]  # not 'solid'
    overlay = color_texture(kind, rng, side, side, period_range=(4, 12)).astype(np.float32)
    alpha = rng.uniform(0.15, 0.35)
    return ((1 - alpha) * base + alpha * overlay).astype(np.uint8)


def draw_study_image(seed: int, split: str, label: int, index: int,
                     sizes: StudySizes) -> np.ndarray:
    """(S, S, 3) uint8 BGR image ``index`` of class ``label`` in ``split``."""
    rng = image_rng(seed, f'study-{split}', label * 100003 + index)
    side = sizes.image_size
    image = textured_background(rng, side)
    for _ in range(int(rng.integers(1, sizes.max_distractors + 1))):
        other = (label + int(rng.integers(1, sizes.num_classes))) % sizes.num_classes
        radius = rng.uniform(0.08, 0.17) * side
        paint_object(image, other, tuple(rng.uniform(0, side, size=2)), radius, rng)
    radius = rng.uniform(0.2, 0.38) * side
    center = tuple(rng.uniform(radius, side - radius, size=2))
    paint_object(image, label, center, radius, rng)
    gain = rng.uniform(0.7, 1.3, size=3)
    offset = rng.uniform(-25, 25, size=3)
    noisy = image * gain + offset + rng.normal(0, 4, size=image.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def make_study_data(root: str, sizes: StudySizes = StudySizes(), seed: int = 0,
                    show_progress: bool = True) -> Dict[str, int]:
    """Write the study ImageNet under ``root`` (train/, val/, meta/{train,val,classes}.txt);
    returns the number of images per split. Train and val images come from disjoint random
    streams (the split is part of each image's seed)."""
    if not 2 <= sizes.num_classes <= MAX_STUDY_CLASSES:
        raise ValueError(f'num_classes={sizes.num_classes} must be in [2, {MAX_STUDY_CLASSES}]')
    for key in ('train_per_class', 'val_per_class', 'image_size'):
        if getattr(sizes, key) < 1:
            raise ValueError(f'{key}={getattr(sizes, key)} must be >= 1')
    if sizes.max_distractors < 1:
        raise ValueError(f'max_distractors={sizes.max_distractors} must be >= 1')
    per_class = dict(train=sizes.train_per_class, val=sizes.val_per_class)
    total = sizes.num_classes * sum(per_class.values())

    def draw(split: str, label: int, index: int) -> np.ndarray:
        return draw_study_image(seed, split, label, index, sizes)

    with tqdm(total=total, desc='study data', unit='img', disable=not show_progress) as bar:
        return write_imagenet_layout(
            osp.abspath(root), [study_class_name(label) for label in range(sizes.num_classes)],
            per_class, draw, bar)
