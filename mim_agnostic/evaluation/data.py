"""Clean, labelled evaluation data in ImageNet layout (no augmentation, no masks).

Two layouts are read, as mmpretrain's ``ImageNet`` / ``CustomDataset`` read them:

- ``<root>/meta/<split>.txt`` lists (``<relative path> <label>`` per line, paths relative to
  ``<root>/<split>``), class names from ``<root>/meta/classes.txt`` when present;
- otherwise class folders ``<root>/<split>/<class>/**/<image>``; the classes (and so the
  label of each folder) are those of the reference split (train), so a val split with
  fewer classes still gets train's labels.

Every check (no such folder, no images, a listed file that does not exist, a val class that
train does not have) runs on file names only, before any image is decoded.
"""
import hashlib
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.registry import DefaultScope
from mmpretrain.datasets import BaseDataset
from torch.utils.data import DataLoader

from mim_agnostic.datasets.image_folder import IMAGE_EXTENSIONS, scan_images
from mim_agnostic.utils.config_check import find_transforms

CROP_RATIO = 0.875  # resize the shorter side to size / 0.875, centre-crop size (224 <- 256)


@dataclass
class SplitFiles:
    """Images of one split: (path, label) pairs in a fixed order and the class names."""
    samples: List[Tuple[str, int]]
    classes: Tuple[str, ...]

    def fingerprint(self) -> str:
        """sha1 of the (path, label, size, mtime) list: part of the feature cache key, so
        images regenerated under the same names do not reuse stale features."""
        stamped = []
        for path, label in self.samples:
            stat = os.stat(path)
            stamped.append((path, label, stat.st_size, stat.st_mtime_ns))
        return hashlib.sha1(json.dumps(stamped).encode()).hexdigest()


def _class_folders(root: str, split: str) -> List[str]:
    folder = osp.join(root, split)
    if not osp.isdir(folder):
        raise FileNotFoundError(
            f'{folder}: no such folder (and no list {osp.join(root, "meta", split + ".txt")});'
            f' expected ImageNet layout: {root}/{split}/<class>/<image> or meta/{split}.txt')
    return sorted(name for name in os.listdir(folder)
                  if not name.startswith('.') and osp.isdir(osp.join(folder, name)))


def _read_list(root: str, split: str) -> List[Tuple[str, int]]:
    list_file = osp.join(root, 'meta', f'{split}.txt')
    samples = []
    with open(list_file) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.strip().rsplit(' ', 1)
            if len(parts) != 2 or not parts[1].lstrip('-').isdigit() or int(parts[1]) < 0:
                raise ValueError(f'{list_file}:{number}: expected "<relative path> <label>", '
                                 f'got {line.strip()!r}')
            samples.append((osp.join(root, split, parts[0]), int(parts[1])))
    missing = [path for path, _ in samples if not osp.isfile(path)]
    if missing:
        raise FileNotFoundError(f'{list_file} lists {len(missing)} files that do not exist, '
                                f'e.g. {missing[:3]}')
    return samples


def _list_classes(root: str, samples: Sequence[Tuple[str, int]],
                  split: str) -> Tuple[str, ...]:
    """Class names of a list layout: meta/classes.txt, else each label's folder name."""
    names_file = osp.join(root, 'meta', 'classes.txt')
    num_classes = max(label for _, label in samples) + 1
    if osp.isfile(names_file):
        with open(names_file) as f:
            names = tuple(line.strip() for line in f if line.strip())
        if len(names) < num_classes:
            raise ValueError(f'{names_file} names {len(names)} classes but '
                             f'meta/{split}.txt uses label {num_classes - 1}')
        return names
    folders = {}
    for path, label in samples:
        folders.setdefault(label, osp.relpath(path, osp.join(root, split)).split(os.sep)[0])
    return tuple(folders.get(label, str(label)) for label in range(num_classes))


def scan_split(data_root: str, split: str, reference_split: Optional[str] = 'train',
               reference: Optional[SplitFiles] = None) -> SplitFiles:
    """The images and labels of ``split``; labels follow ``reference_split``'s classes
    (``reference``: that split's scan, if the caller has it already).

    Raises FileNotFoundError / ValueError naming the folder, list file or class for: a
    missing root or split, a split without images, a listed file that does not exist and a
    class of ``split`` that ``reference_split`` has no images of.
    """
    root = osp.expanduser(data_root)
    if not osp.isdir(root):
        raise FileNotFoundError(f'data root {data_root}: no such folder')
    if reference_split is None or reference_split == split:
        reference = None
    elif reference is None:
        reference = scan_split(root, reference_split, reference_split=None)
    if osp.isfile(osp.join(root, 'meta', f'{split}.txt')):
        samples = _read_list(root, split)
        if not samples:
            raise ValueError(f'{osp.join(root, "meta", split + ".txt")} lists no images')
        classes = _list_classes(root, samples, split)
        if reference is not None:
            known = {label for _, label in reference.samples}
            unknown = sorted({label for _, label in samples} - known)
            if unknown:
                names = [classes[label] for label in unknown[:5]]
                raise ValueError(f'{split} has classes {names} (labels {unknown[:5]}) that '
                                 f'{reference_split} of {data_root} has no images of')
            classes = reference.classes
        return SplitFiles(samples, classes)
    folders = _class_folders(root, split)
    classes = tuple(folders) if reference is None else reference.classes
    if reference is not None:
        unknown = [name for name in folders if name not in classes]
        if unknown:
            raise ValueError(f'{split} class folders {unknown[:5]} of {data_root} have no '
                             f'folder in {reference_split} (classes: {list(classes)[:10]})')
    label_of = {name: label for label, name in enumerate(classes)}
    # UnlabeledImageFolder's scan: recursive, sorted, hidden files and folders skipped
    samples = [(osp.join(root, split, name, path), label_of[name]) for name in folders
               for path in scan_images(osp.join(root, split, name), IMAGE_EXTENSIONS)[0]]
    if not samples:
        raise ValueError(f'{osp.join(root, split)} holds no images '
                         f'({", ".join(IMAGE_EXTENSIONS)}) in class folders')
    if reference is None:  # a class folder without images would shift nothing but is odd
        empty = [name for name in folders if not any(label == label_of[name]
                                                     for _, label in samples)]
        if empty:
            raise ValueError(f'class folders {empty[:5]} of {osp.join(root, split)} hold no '
                             'images')
    return SplitFiles(samples, classes)


class EvalImageList(BaseDataset):
    """mmpretrain :class:`BaseDataset` over a scanned :class:`SplitFiles` list
    (``metainfo['classes']`` = the class names, ``gt_label`` per sample)."""

    def __init__(self, files: SplitFiles, pipeline: Sequence[dict]) -> None:
        self.files = files
        super().__init__(ann_file='', metainfo=dict(classes=files.classes), pipeline=pipeline,
                         test_mode=True, serialize_data=False)

    def load_data_list(self) -> List[dict]:
        return [dict(img_path=path, gt_label=label) for path, label in self.files.samples]


def training_crop_size(cfg: Config) -> int:
    """Crop size of the config's training pipeline (RandomResizedCrop ``scale`` or the mask
    generator's ``input_size``); 224 when it has neither."""
    loader = cfg.get('train_dataloader') or {}
    for _, transform in find_transforms(loader, 'scale'):
        if transform['type'] in ('RandomResizedCrop', 'mmpretrain.RandomResizedCrop'):
            scale = transform['scale']
            return int(scale if isinstance(scale, int) else max(scale))
    for _, transform in find_transforms(loader, 'input_size'):
        size = transform['input_size']
        return int(size if isinstance(size, int) else max(size))
    return 224


def eval_pipeline(image_size: int) -> List[dict]:
    """The standard eval transform: shorter side to size / 0.875 (bicubic), centre crop."""
    return [
        dict(type='CheckedLoadImageFromFile'),
        dict(type='ResizeEdge', scale=int(round(image_size / CROP_RATIO)), edge='short',
             backend='pillow', interpolation='bicubic'),
        dict(type='CenterCrop', crop_size=image_size),
        dict(type='PackInputs'),
    ]


def build_eval_dataloader(cfg: Config, data_root: str, split: str, batch_size: int = 64,
                          num_workers: int = 2, image_size: Optional[int] = None,
                          reference_split: str = 'train',
                          files: Optional[SplitFiles] = None) -> DataLoader:
    """A sequential DataLoader of clean, labelled images of ``split``.

    Batches are mmengine-collated dicts: ``inputs`` (B, 3, S, S) uint8 BGR, ``data_samples``
    with ``gt_label``; S = ``image_size`` or the config's training crop. The dataset is an
    :class:`EvalImageList` (``dataloader.dataset.metainfo['classes']``, ``.files``,
    ``.pipeline_cfg``). ``files`` skips the scan when the caller has it already.
    """
    files = files or scan_split(data_root, split, reference_split)
    pipeline = eval_pipeline(image_size or training_crop_size(cfg))
    with DefaultScope.overwrite_default_scope('mim_agnostic'):  # the toolkit's transforms
        dataset = EvalImageList(files, pipeline)
    dataset.pipeline_cfg = pipeline
    # its own generator: creating an iterator must not draw from the global torch RNG (an
    # evaluation during training would otherwise shift the training run's randomness)
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
                      collate_fn=default_collate, persistent_workers=False, drop_last=False,
                      generator=torch.Generator().manual_seed(0))
