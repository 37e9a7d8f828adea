"""Consistency checks between a built MIM model and its data pipeline, run before training
so a mismatch fails at start-up with the config keys to fix, not deep in a forward pass."""
import os
import os.path as osp
from typing import Iterator, Optional, Tuple

from mmengine.config import Config
from mmengine.model import is_model_wrapper
from torch import nn


def find_transforms(node, key: str) -> Iterator[Tuple[str, dict]]:
    """(config path, cfg) of every transform cfg that has ``key``, searched recursively."""
    def walk(value, path):
        if isinstance(value, dict):
            if key in value and 'type' in value:
                yield path, value
            for child_key, child in value.items():
                yield from walk(child, f'{path}.{child_key}' if path else child_key)
        elif isinstance(value, (list, tuple)):
            for index, child in enumerate(value):
                yield from walk(child, f'{path}[{index}]')
    yield from walk(node, '')


def check_mim_model_against_data(model: nn.Module, cfg: Config,
                                 loader_key: str = 'train_dataloader') -> None:
    """Raise ValueError if the mask generator's ``model_patch_size`` differs from the stride
    where the backbone inserts its mask token, or if the crop size is not a multiple of the
    decoder's ``encoder_stride``. Models without a mask token are left alone."""
    model = model.module if is_model_wrapper(model) else model
    backbone = getattr(model, 'backbone', None)
    stride: Optional[int] = getattr(backbone, 'mask_stride', None)
    if stride is None or cfg.get(loader_key) is None:
        return
    encoder_stride = getattr(getattr(model, 'neck', None), 'encoder_stride', None)
    for path, transform in find_transforms(cfg[loader_key], 'model_patch_size'):
        where = f'{loader_key}.{path}'
        if transform['model_patch_size'] != stride:
            raise ValueError(
                f'{where}.model_patch_size={transform["model_patch_size"]} but '
                f'model.backbone ({type(backbone).__name__}) inserts the mask token at stride '
                f'{stride}: set model_patch_size={stride}')
        size = transform.get('input_size', 224)
        sides = (size, size) if isinstance(size, int) else tuple(size)
        if encoder_stride and any(side % encoder_stride for side in sides):
            raise ValueError(f'{where}.input_size={size} is not a multiple of '
                             f'model.neck.encoder_stride={encoder_stride}')


IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp')
IMAGE_DATASETS = ('ImageNet', 'CustomDataset')


def check_image_dataset(cfg: Config, loader_key: str = 'train_dataloader') -> None:
    """Before the Runner starts: the image folder of an ImageNet-style dataset exists and
    holds at least one image, else an error naming the config key and the folder."""
    dataset = (cfg.get(loader_key) or {}).get('dataset') or {}
    if dataset.get('type') not in IMAGE_DATASETS:
        return
    root = dataset.get('data_root', '')
    where = f'{loader_key}.dataset.data_root={root!r}'
    if not osp.isdir(root):
        raise FileNotFoundError(f'{where}: no such folder (generate the demo data with '
                                'python tools/make_demo_data.py data/demo)')
    for _, _, files in os.walk(root, followlinks=True):
        if any(name.lower().endswith(IMAGE_EXTENSIONS) for name in files):
            return
    raise ValueError(f'{where}: the folder holds no images ({", ".join(IMAGE_EXTENSIONS)}); '
                     'expected class folders of images (and meta/train.txt)')
