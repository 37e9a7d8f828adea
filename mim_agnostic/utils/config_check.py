"""Consistency checks between a built MIM model and its data pipeline, run before training
so a mismatch fails at start-up with the config keys to fix, not deep in a forward pass."""
import inspect
import os
import os.path as osp
from typing import Iterator, Optional, Set, Tuple

from mmengine.config import Config
from mmengine.model import is_model_wrapper
from torch import nn

from mim_agnostic.datasets.image_folder import (DEFAULT_CACHE_DIR, IMAGE_EXTENSIONS,
                                                UnlabeledImageFolder, find_images)
from mim_agnostic.registry import DATASETS


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


IMAGE_DATASETS = ('ImageNet', 'CustomDataset')


def accepted_arguments(cls: type) -> Optional[Set[str]]:
    """Keyword arguments ``cls(...)`` accepts, following ``**kwargs`` up the base classes;
    None if some level accepts any keyword."""
    names = set()
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        parameters = inspect.signature(klass.__init__).parameters.values()
        names |= {p.name for p in parameters
                  if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            return names - {'self'}
    return None


def check_dataset_arguments(cfg: Config, loader_key: str = 'train_dataloader') -> None:
    """A dataset cfg holding a key its class does not take (typically left over when
    ``--cfg-options`` changes the ``type`` of an inherited dataset: ImageNet's ``split``)
    is an error naming the key, and for pretraining configs the way to use a folder."""
    dataset = (cfg.get(loader_key) or {}).get('dataset') or {}
    if not isinstance(dataset.get('type'), str):
        return
    scope = dataset.get('_scope_') or cfg.get('default_scope')
    cls = DATASETS.get(dataset['type'] if scope in (None, DATASETS.scope)
                       else f'{scope}.{dataset["type"]}')
    accepted = accepted_arguments(cls) if cls is not None else None
    if accepted is None:
        return
    # type and mmengine's own keys (_scope_) go to the builder, not the class
    unknown = [key for key in dataset if not (key == 'type' or key.startswith('_')
                                              or key in accepted)]
    if not unknown:
        return
    message = (f'{loader_key}.dataset: {dataset["type"]} takes no '
               + ', '.join(f'{key}={dataset[key]!r}' for key in unknown)
               + ' (left over from the dataset the config inherits? --cfg-options merges '
               'keys into it)')
    if 'train_data_root' in cfg:
        message += ('. To pretrain on a folder of images: tools/train.py CONFIG --data-root '
                    'PATH, or train_data_root = PATH in the config')
    raise TypeError(message)


def check_image_dataset(cfg: Config, loader_key: str = 'train_dataloader') -> None:
    """Before the Runner starts: the dataset takes every key its cfg holds, and the image
    folder of an ImageNet-style dataset or of an :class:`UnlabeledImageFolder` exists and
    holds at least one image (the latter's image list is built and cached here), else an
    error naming the config key and the folder (or list file)."""
    check_dataset_arguments(cfg, loader_key)
    dataset = (cfg.get(loader_key) or {}).get('dataset') or {}
    if dataset.get('type') not in IMAGE_DATASETS + (UnlabeledImageFolder.__name__, ):
        return
    root = dataset.get('data_root', '')
    from_data_root = loader_key == 'train_dataloader' and cfg.get('train_data_root')
    key = 'train_data_root (--data-root)' if from_data_root else f'{loader_key}.dataset.data_root'
    where = f'{key}={root!r}'
    if not osp.isdir(root):
        raise FileNotFoundError(f'{where}: no such folder' + (
            ' (generate the demo data with python tools/make_demo_data.py data/demo)'
            if dataset['type'] in IMAGE_DATASETS else ''))
    if dataset['type'] == UnlabeledImageFolder.__name__:
        try:
            find_images(root, dataset.get('ann_file', ''),
                        dataset.get('extensions', IMAGE_EXTENSIONS),
                        dataset.get('cache_dir', DEFAULT_CACHE_DIR))
        except (OSError, ValueError) as error:
            raise type(error)(f'{key}: {error}') from None
        return
    for _, _, files in os.walk(root, followlinks=True):
        if any(name.lower().endswith(IMAGE_EXTENSIONS) for name in files):
            return
    raise ValueError(f'{where}: the folder holds no images ({", ".join(IMAGE_EXTENSIONS)}); '
                     'expected class folders of images (and meta/train.txt)')
