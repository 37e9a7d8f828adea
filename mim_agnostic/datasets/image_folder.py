"""Pretraining on any folder of images: no labels, no layout, the file list cached.

``UnlabeledImageFolder`` lists every image under a folder (recursively), or the images named
by a list file, and gives the pipeline only their paths. :func:`use_image_folder` switches a
pretraining config to it when the config key ``train_data_root`` (or ``tools/train.py
--data-root``) is set.
"""
import hashlib
import json
import logging
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from mim_agnostic.registry import DATASETS

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp')
DEFAULT_CACHE_DIR = osp.join(os.environ.get('XDG_CACHE_HOME', '~/.cache'), 'mim_agnostic',
                             'image_lists')
CACHE_FORMAT = 'mim_agnostic image list v1'
# A folder changed this recently may change again within the same timestamp tick (up to 2 s
# on FAT, milliseconds on ext4) without its mtime moving: its listing is not cached.
SETTLED_NS = 2 * 10**9


def scan_images(root: str, extensions: Sequence[str]) -> Tuple[List[str], Dict[str, int]]:
    """Paths (relative to ``root``, sorted) of the files under ``root`` whose extension is in
    ``extensions`` (any letter case), and the mtime (ns) of every folder visited. Hidden files
    and folders (``.name``: macOS ``._x.jpg`` resource forks, ``.ipynb_checkpoints``) are
    skipped; symlinked folders are followed."""
    extensions = tuple(ext.lower() for ext in extensions)
    images, mtimes = [], {}
    for folder, subfolders, files in os.walk(root, followlinks=True):
        subfolders[:] = [name for name in subfolders if not name.startswith('.')]
        relative = osp.relpath(folder, root)
        mtimes[relative] = os.stat(folder).st_mtime_ns
        images += [osp.normpath(osp.join(relative, name)) for name in files
                   if not name.startswith('.') and name.lower().endswith(extensions)]
    return sorted(images), mtimes


def read_image_list(root: str, ann_file: str) -> Tuple[List[str], Dict[str, int]]:
    """The paths in ``ann_file`` (one per line, relative to ``root`` or absolute; blank lines
    ignored) and the mtime (ns) of the list file and of each folder holding a listed image.
    A path naming no file is an error with the list file, the line number and the path."""
    images, mtimes = [], {osp.abspath(ann_file): os.stat(ann_file).st_mtime_ns}
    with open(ann_file, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            path = line.strip()
            if not path:
                continue
            if not osp.isfile(osp.join(root, path)):
                raise FileNotFoundError(f'{ann_file}, line {number}: {osp.join(root, path)}: '
                                        'no such file')
            folder = osp.dirname(path)
            if folder not in mtimes:
                mtimes[folder] = os.stat(osp.join(root, folder)).st_mtime_ns
            images.append(path)
    if not images:
        raise ValueError(f'{ann_file}: the list file names no images')
    return images, mtimes


def unchanged(root: str, mtimes: Dict[str, int]) -> bool:
    """Whether every path (relative to ``root`` or absolute) still has the recorded mtime.
    Adding, removing or renaming a file or subfolder changes the mtime of the folder holding
    it, so a listing made at those mtimes is still valid. One stat per folder, no listing."""
    for path, mtime in mtimes.items():
        try:
            if os.stat(osp.join(root, path)).st_mtime_ns != mtime:
                return False
        except OSError:
            return False
    return True


def cache_path(cache_dir: str, key: dict) -> str:
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return osp.join(osp.expanduser(cache_dir), f'image_list_{digest}.txt')


def load_cached_list(path: str, key: dict, root: str) -> Optional[List[str]]:
    """The image list stored at ``path`` if it was made for ``key`` and none of the folders
    (and list file) it depends on has changed since, else None."""
    try:
        with open(path, encoding='utf-8') as f:
            if f.readline().rstrip('\n') != CACHE_FORMAT:
                return None
            header = json.loads(f.readline())
            if header['key'] != key or not unchanged(root, header['mtimes']):
                return None
            return f.read().splitlines()
    except (OSError, ValueError, KeyError):
        return None


def save_cached_list(path: str, key: dict, mtimes: Dict[str, int], images: List[str]) -> None:
    """Write the list atomically (the ranks of a distributed run may write it at once); a
    cache that cannot be written is reported, not fatal."""
    temporary = f'{path}.{os.getpid()}.tmp'
    try:
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(temporary, 'w', encoding='utf-8') as f:
            f.write(CACHE_FORMAT + '\n')
            f.write(json.dumps(dict(key=key, mtimes=mtimes)) + '\n')
            f.writelines(image + '\n' for image in images)
        os.replace(temporary, path)
        print_log(f'image list cached in {path}', logger='current')
    except OSError as error:
        print_log(f'image list not cached ({error})', logger='current', level=logging.WARNING)


def find_images(data_root: str, ann_file: str = '',
                extensions: Sequence[str] = IMAGE_EXTENSIONS,
                cache_dir: Optional[str] = DEFAULT_CACHE_DIR) -> List[str]:
    """Paths relative to ``data_root`` of the images to train on: those named by ``ann_file``
    (relative to ``data_root``, or absolute), else every image under ``data_root``.

    The list is cached in ``cache_dir`` (None: never) in a file named by a hash of the real
    path of the folder and of the list file (or the extensions), with the mtime of every
    folder scanned (of the list file and of the folders of listed images); it is reused while
    all those mtimes are unchanged, else rebuilt. A listing is not cached while one of them
    is under 2 s old (a folder being written to).

    Raises FileNotFoundError / ValueError naming the folder or list file: no such folder, no
    images in it (with the extensions searched), a list entry naming no file.
    """
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'{data_root}: no such folder')
    if ann_file:
        ann_file = osp.join(data_root, ann_file)
        if not osp.isfile(ann_file):
            raise FileNotFoundError(f'{ann_file}: no such list file')
        key = dict(root=osp.realpath(data_root), list_file=osp.realpath(ann_file))
    else:
        key = dict(root=osp.realpath(data_root),
                   extensions=sorted(ext.lower() for ext in extensions))
    cache = cache_path(cache_dir, key) if cache_dir else None
    images = load_cached_list(cache, key, data_root) if cache else None
    if images is not None:
        print_log(f'{len(images)} images under {data_root} (list from the cache {cache})',
                  logger='current')
        return images
    start = time.perf_counter()
    if ann_file:
        images, mtimes = read_image_list(data_root, ann_file)
    else:
        images, mtimes = scan_images(data_root, extensions)
        if not images:
            raise ValueError(f'{data_root}: no images found (searched recursively for '
                             f'{", ".join(extensions)} in any letter case)')
        warn_if_imagenet_root(data_root)
    seconds = time.perf_counter() - start
    print_log(f'{len(images)} images under {data_root} (listed in {seconds:.1f} s)',
              logger='current')
    if cache and time.time_ns() - max(mtimes.values()) > SETTLED_NS:
        save_cached_list(cache, key, mtimes, images)
    return images


def warn_if_imagenet_root(data_root: str) -> None:
    """The root of an ImageNet-style tree holds train/ and val/: both would be trained on."""
    if all(osp.isdir(osp.join(data_root, split)) for split in ('train', 'val')):
        print_log(f'{data_root} holds train/ and val/ and the images of both are trained on; '
                  f'for the training images alone use {osp.join(data_root, "train")}',
                  logger='current', level=logging.WARNING)


@DATASETS.register_module()
class UnlabeledImageFolder(BaseDataset):
    """Every image under a folder, in any layout (flat, class folders, nested), without
    labels: what masked image modeling needs. Each sample is ``dict(img_path=...)``.

    Args:
        data_root: the folder.
        ann_file: optional list file, one image path per line relative to ``data_root`` (or
            absolute); only those images are used. Relative to ``data_root`` itself.
        extensions: file endings that count as images when scanning (any letter case).
        cache_dir: where the image list is cached (see :func:`find_images`); None: rescan
            every time. Delete the cache file to force a rescan.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments (``pipeline``, ...).
    """

    def __init__(self, data_root: str, ann_file: str = '',
                 extensions: Sequence[str] = IMAGE_EXTENSIONS,
                 cache_dir: Optional[str] = DEFAULT_CACHE_DIR, **kwargs) -> None:
        self.extensions = tuple(extensions)
        self.cache_dir = cache_dir
        self.list_file = ann_file
        # ann_file is not passed on: BaseDataset would join it to data_root a second time
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        images = find_images(self.data_root, self.list_file, self.extensions, self.cache_dir)
        return [dict(img_path=osp.join(self.data_root, image)) for image in images]


def use_image_folder(cfg: Config) -> Config:
    """If ``cfg.train_data_root`` is set, ``train_dataloader.dataset`` becomes an
    :class:`UnlabeledImageFolder` over that folder with the same pipeline (no ImageNet
    ``split`` / ``ann_file`` left over). Applying it twice changes nothing more."""
    data_root = cfg.get('train_data_root')
    if not data_root:
        return cfg
    dataset = cfg.train_dataloader.dataset
    if dataset.get('type') == UnlabeledImageFolder.__name__:
        dataset.data_root = data_root
    elif 'pipeline' not in dataset:
        raise KeyError(f'train_data_root: train_dataloader.dataset ({dataset.get("type")}) '
                       'has no pipeline to keep')
    else:
        cfg.train_dataloader.dataset = dict(type=UnlabeledImageFolder.__name__,
                                            data_root=data_root, pipeline=dataset.pipeline)
    return cfg
