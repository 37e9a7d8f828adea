"""Small synthetic datasets in the real on-disk formats (ImageNet, COCO, ADE20K).

Every image shows textured shapes on a smooth background. A shape's class decides both its
outline and its texture, so class, instance and segment labels are learnable from pixels;
everything is drawn from a seed, so the same call writes the same files.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Sequence, Tuple

import cv2
import numpy as np
from tqdm import tqdm

SHAPES = ('circle', 'square', 'triangle', 'star', 'hexagon', 'diamond')
TEXTURES = ('solid', 'stripes', 'checker', 'dots')
# ADE20K indices (1-based, 0 = ignore) used for the background "stuff" and the objects.
ADE_SKY, ADE_FLOOR, ADE_FIRST_OBJECT = 3, 4, 5


def class_name(label: int) -> str:
    """Name of class ``label``: a shape and a texture, e.g. 'circle_stripes'."""
    return f'{SHAPES[label % len(SHAPES)]}_{TEXTURES[(label // len(SHAPES)) % len(TEXTURES)]}'


# vertex count and the radius pattern cycled over the vertices of each outline
OUTLINES = {
    'circle': (32, (1.0, )),
    'square': (4, (1.0, )),
    'triangle': (3, (1.0, )),
    'star': (10, (1.0, 0.45)),
    'hexagon': (6, (1.0, )),
    'diamond': (4, (1.0, 0.55)),
    'pentagon': (5, (1.0, )),
    'cross': (8, (1.0, 0.3)),
}


def outline_polygon(shape: str, center: Tuple[float, float], radius: float,
                    angle: float) -> np.ndarray:
    """Outline of ``shape`` (a key of :data:`OUTLINES`) as an (N, 2) float array of (x, y)
    vertices on a circle of ``radius`` around ``center``, rotated by ``angle`` radians."""
    count, radii = OUTLINES[shape]
    angles = angle + np.arange(count) * 2 * np.pi / count
    scale = np.array([radii[i % len(radii)] for i in range(count)])
    xs = center[0] + radius * scale * np.cos(angles)
    ys = center[1] + radius * scale * np.sin(angles)
    return np.stack([xs, ys], axis=1)


def shape_polygon(label: int, center: Tuple[float, float], radius: float,
                  angle: float) -> np.ndarray:
    """Outline of class ``label``'s shape as an (N, 2) float array of (x, y) vertices."""
    return outline_polygon(SHAPES[label % len(SHAPES)], center, radius, angle)


def smooth_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """(H, W, 3) uint8 BGR: a random two-colour vertical gradient plus mild noise."""
    top, bottom = rng.uniform(30, 225, size=(2, 3))
    ramp = np.linspace(0.0, 1.0, height)[:, None, None]
    image = top * (1 - ramp) + bottom * ramp + rng.normal(0, 6, size=(height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def texture_pattern(kind: str, height: int, width: int, period: int) -> np.ndarray:
    """(H, W) bool pattern of texture ``kind`` (one of :data:`PATTERNS`), ``period`` pixels."""
    yy, xx = np.mgrid[0:height, 0:width]
    if kind == 'solid':
        return np.zeros((height, width), bool)
    if kind == 'stripes':
        return ((xx + yy) // (period // 2)) % 2 == 0
    if kind == 'checker':
        return ((xx // period) + (yy // period)) % 2 == 0
    if kind == 'dots':
        return ((xx % period - period / 2)**2 + (yy % period - period / 2)**2) < (period / 3)**2
    if kind == 'hstripes':
        return (yy // (period // 2)) % 2 == 0
    if kind == 'grid':
        return (xx % period < 2) | (yy % period < 2)
    raise ValueError(f'unknown texture {kind!r}; choose from {PATTERNS}')


PATTERNS = ('solid', 'stripes', 'checker', 'dots', 'hstripes', 'grid')


def color_texture(kind: str, rng: np.random.Generator, height: int, width: int,
                  period_range: Tuple[int, int] = (6, 12)) -> np.ndarray:
    """(H, W, 3) uint8 BGR texture ``kind`` in a random colour and its complement, with a
    random period in [period_range[0], period_range[1])."""
    color = rng.uniform(0, 255, size=3)
    other = 255 - color
    period = int(rng.integers(*period_range))
    pattern = texture_pattern(kind, height, width, period)
    return np.where(pattern[..., None], other, color).astype(np.uint8)


def texture(label: int, rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """(H, W, 3) uint8 BGR fill pattern of class ``label`` in a random colour pair."""
    return color_texture(TEXTURES[(label // len(SHAPES)) % len(TEXTURES)], rng, height, width)


def fill_polygon(image: np.ndarray, polygon: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Copy ``fill`` (H, W, 3) into ``image`` (in place) inside ``polygon``; returns the
    (H, W) bool mask of painted pixels."""
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    mask = mask.astype(bool)
    image[mask] = fill[mask]
    return mask


def paint_shape(image: np.ndarray, polygon: np.ndarray, label: int,
                rng: np.random.Generator) -> np.ndarray:
    """Fill ``polygon`` on ``image`` (in place) with class ``label``'s texture; returns the
    (H, W) bool mask of painted pixels."""
    return fill_polygon(image, polygon, texture(label, rng, *image.shape[:2]))


def image_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator of one image: a function of (seed, split tag, index) only, so every
    image is reproducible on its own."""
    return np.random.default_rng([seed, sum(map(ord, split)), index])


def _place_shapes(rng: np.random.Generator, size: Tuple[int, int], count: int,
                  min_frac: float, max_frac: float) -> Iterator[Tuple[Tuple[float, float], float]]:
    """Centres and radii of up to ``count`` shapes whose bounding circles do not overlap."""
    height, width = size
    placed: List[Tuple[float, float, float]] = []
    for _ in range(count * 20):
        if len(placed) == count:
            break
        radius = rng.uniform(min_frac, max_frac) * min(height, width) / 2
        cx, cy = rng.uniform(radius, width - radius), rng.uniform(radius, height - radius)
        if all((cx - x)**2 + (cy - y)**2 > (radius + r + 2)**2 for x, y, r in placed):
            placed.append((cx, cy, radius))
            yield (cx, cy), radius


@dataclass
class DemoSizes:
    """How much to generate; the defaults keep CPU tests and the demo run fast."""
    num_classes: int = 8
    imagenet_train_per_class: int = 16
    imagenet_val_per_class: int = 4
    imagenet_size: int = 128
    coco_train: int = 16
    coco_val: int = 8
    coco_size: Tuple[int, int] = (192, 256)
    ade_train: int = 16
    ade_val: int = 8
    ade_size: Tuple[int, int] = (128, 160)


def write_imagenet_layout(root: str, class_names: Sequence[str], per_class: Dict[str, int],
                          draw: Callable[[str, int, int], np.ndarray],
                          progress: tqdm) -> Dict[str, int]:
    """ImageNet layout: {split}/<wnid>/<file>.JPEG, meta/{split}.txt
    ('<wnid>/<file>.JPEG <label>') and meta/classes.txt (one class name per label).

    Args:
        per_class: images per class of each split, e.g. ``{'train': 16, 'val': 4}``.
        draw: ``draw(split, label, index)`` -> (H, W, 3) uint8 BGR image.
    Returns:
        the number of images of each split.
    """
    wnids = [f'n{label:08d}' for label in range(len(class_names))]
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    with open(osp.join(root, 'meta', 'classes.txt'), 'w') as f:
        f.write('\n'.join(class_names) + '\n')
    counts = {}
    for split, count in per_class.items():
        lines = []
        for label, wnid in enumerate(wnids):
            os.makedirs(osp.join(root, split, wnid), exist_ok=True)
            for i in range(count):
                name = f'{wnid}/{wnid}_{i:05d}.JPEG'
                cv2.imwrite(osp.join(root, split, name), draw(split, label, i),
                            [cv2.IMWRITE_JPEG_QUALITY, 95])
                lines.append(f'{name} {label}')
                progress.update()
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
        counts[split] = len(lines)
    return counts


def make_imagenet(root: str, sizes: DemoSizes, seed: int, progress: tqdm) -> Dict[str, int]:
    """The demo ImageNet (:func:`write_imagenet_layout`): one large textured shape of its
    class on a smooth background per image."""
    if not 1 <= sizes.num_classes <= len(SHAPES) * len(TEXTURES):
        raise ValueError(f'num_classes={sizes.num_classes} must be in '
                         f'[1, {len(SHAPES) * len(TEXTURES)}]')

    def draw(split: str, label: int, index: int) -> np.ndarray:
        rng = image_rng(seed, f'imagenet-{split}', label * 100003 + index)
        side = sizes.imagenet_size
        image = smooth_background(rng, side, side)
        radius = rng.uniform(0.25, 0.42) * side
        center = tuple(rng.uniform(radius, side - radius, size=2))
        paint_shape(image, shape_polygon(label, center, radius, rng.uniform(0, np.pi)),
                    label, rng)
        return image

    return write_imagenet_layout(
        root, [class_name(label) for label in range(sizes.num_classes)],
        dict(train=sizes.imagenet_train_per_class, val=sizes.imagenet_val_per_class),
        draw, progress)


def make_coco(root: str, sizes: DemoSizes, seed: int, progress: tqdm,
              num_categories: int = 3) -> Dict[str, int]:
    """COCO layout: {train,val}2017/<id:012d>.jpg and annotations/instances_{split}2017.json
    with polygon segmentations, xywh boxes, pixel areas, iscrowd 0."""
    if num_categories < 1:
        raise ValueError(f'num_categories={num_categories} must be >= 1')
    categories = [dict(id=c + 1, name=SHAPES[c % len(SHAPES)], supercategory='shape')
                  for c in range(num_categories)]
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    counts = {}
    ann_id = 1
    for split, num_images in (('train', sizes.coco_train), ('val', sizes.coco_val)):
        image_dir = osp.join(root, f'{split}2017')
        os.makedirs(image_dir, exist_ok=True)
        images, annotations = [], []
        for index in range(num_images):
            rng = image_rng(seed, f'coco-{split}', index)
            height, width = sizes.coco_size
            image = smooth_background(rng, height, width)
            image_id = index + 1
            count = int(rng.integers(1, 5))
            for center, radius in _place_shapes(rng, (height, width), count, 0.2, 0.45):
                category = int(rng.integers(num_categories))
                # solid-textured variants keep category == shape; texture varies per instance
                label = category + len(SHAPES) * int(rng.integers(len(TEXTURES)))
                polygon = shape_polygon(label, center, radius, rng.uniform(0, np.pi))
                mask = paint_shape(image, polygon, label, rng)
                if not mask.any():
                    continue
                ys, xs = np.nonzero(mask)
                x0, y0 = float(xs.min()), float(ys.min())
                annotations.append(dict(
                    id=ann_id, image_id=image_id, category_id=category + 1, iscrowd=0,
                    segmentation=[[round(float(v), 2) for v in polygon.flatten()]],
                    bbox=[x0, y0, float(xs.max()) - x0 + 1, float(ys.max()) - y0 + 1],
                    area=float(mask.sum())))
                ann_id += 1
            file_name = f'{image_id:012d}.jpg'
            cv2.imwrite(osp.join(image_dir, file_name), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
            images.append(dict(id=image_id, file_name=file_name, height=height, width=width))
            progress.update()
        with open(osp.join(root, 'annotations', f'instances_{split}2017.json'), 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=categories,
                           info=dict(description='mim_agnostic demo COCO'), licenses=[]), f)
        counts[split] = len(images)
    return counts


def make_ade20k(root: str, sizes: DemoSizes, seed: int, progress: tqdm) -> Dict[str, int]:
    """ADE20K layout: images/{training,validation}/ADE_*.jpg and
    annotations/{training,validation}/ADE_*.png, uint8 maps of 150-class indices (1..150)
    with 0 = ignore (object outlines), as mmseg's ADE20KDataset (reduce_zero_label) reads."""
    counts = {}
    for split, prefix, num_images in (('training', 'ADE_train', sizes.ade_train),
                                      ('validation', 'ADE_val', sizes.ade_val)):
        os.makedirs(osp.join(root, 'images', split), exist_ok=True)
        os.makedirs(osp.join(root, 'annotations', split), exist_ok=True)
        for index in range(num_images):
            rng = image_rng(seed, f'ade-{split}', index)
            height, width = sizes.ade_size
            horizon = int(rng.uniform(0.35, 0.65) * height)
            image = np.empty((height, width, 3), np.uint8)
            image[:horizon] = smooth_background(rng, horizon, width) // 2 + \
                np.array([110, 60, 20], np.uint8)  # bluish sky (BGR)
            image[horizon:] = texture(len(SHAPES) * 2, rng, height - horizon, width) // 3 + \
                np.array([40, 70, 100], np.uint8)  # brownish striped floor
            labels = np.full((height, width), ADE_FLOOR, np.uint8)
            labels[:horizon] = ADE_SKY
            for center, radius in _place_shapes(rng, (height, width), 3, 0.2, 0.4):
                label = int(rng.integers(sizes.num_classes))
                polygon = shape_polygon(label, center, radius, rng.uniform(0, np.pi))
                mask = paint_shape(image, polygon, label, rng)
                labels[mask] = ADE_FIRST_OBJECT + label
                outline = np.round(polygon).astype(np.int32)
                cv2.polylines(labels, [outline], True, 0, thickness=1)
            name = f'{prefix}_{index + 1:08d}'
            cv2.imwrite(osp.join(root, 'images', split, f'{name}.jpg'), image,
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            cv2.imwrite(osp.join(root, 'annotations', split, f'{name}.png'), labels)
            progress.update()
        counts[split] = num_images
    return counts


DATASETS = ('imagenet', 'coco', 'ade20k')


def make_demo_data(out_dir: str, sizes: DemoSizes = DemoSizes(), seed: int = 0,
                   datasets: Sequence[str] = DATASETS, show_progress: bool = True) -> dict:
    """Write the chosen datasets under ``out_dir/{imagenet,coco,ade20k}``; returns the image
    counts per dataset and split."""
    unknown = set(datasets) - set(DATASETS)
    if unknown:
        raise ValueError(f'unknown demo datasets {sorted(unknown)}; choose from {DATASETS}')
    total = 0
    if 'imagenet' in datasets:
        total += sizes.num_classes * (sizes.imagenet_train_per_class +
                                      sizes.imagenet_val_per_class)
    if 'coco' in datasets:
        total += sizes.coco_train + sizes.coco_val
    if 'ade20k' in datasets:
        total += sizes.ade_train + sizes.ade_val
    makers = dict(imagenet=make_imagenet, coco=make_coco, ade20k=make_ade20k)
    counts = {}
    with tqdm(total=total, desc='demo data', unit='img', disable=not show_progress) as bar:
        for name in datasets:
            counts[name] = makers[name](osp.join(out_dir, name), sizes, seed, bar)
    return counts
