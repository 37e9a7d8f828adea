"""Image loading that names the file and the problem, or skips unreadable files."""
import logging
import os.path as osp
from typing import Optional

from mmcv.transforms import LoadImageFromFile
from mmengine.logging import print_log

from mim_agnostic.registry import TRANSFORMS


def describe_unreadable(path: str) -> str:
    """Why ``path`` could not be read, in words."""
    if not osp.isfile(path):
        return f'{path}: no such file'
    if osp.getsize(path) == 0:
        return f'{path}: empty file (0 bytes)'
    return f'{path}: cannot be decoded as an image (corrupt or truncated file?)'


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """mmcv's :class:`LoadImageFromFile` (decoded as 3-channel uint8: grayscale is
    replicated, an alpha channel dropped, 16-bit scaled to 8-bit) whose failures name the
    file and the problem, or are skipped.

    Args:
        skip_unreadable: instead of stopping the run, drop a missing, empty, corrupt or
            truncated image (the dataset fetches another index) and log a warning with the
            number skipped so far in this data worker. Off by default: a broken dataset
            should be noticed, not trained around.
        **kwargs: :class:`LoadImageFromFile` arguments.
    """

    def __init__(self, skip_unreadable: bool = False, **kwargs) -> None:
        if kwargs.get('ignore_empty'):
            raise ValueError('CheckedLoadImageFromFile: use skip_unreadable=True instead of '
                             'ignore_empty=True (it also logs what it skips)')
        super().__init__(**kwargs)
        self.skip_unreadable = skip_unreadable
        self.num_skipped = 0

    def transform(self, results: dict) -> Optional[dict]:
        path = results['img_path']
        try:
            loaded = super().transform(results)
        except Exception as error:  # mmcv raises AssertionError, cv2.error, OSError, ...
            problem = describe_unreadable(path)
            if not self.skip_unreadable:
                kind = FileNotFoundError if not osp.isfile(path) else ValueError
                raise kind(f'{problem} (set skip_unreadable=True on '
                           f'{type(self).__name__} to skip such images)') from error
            self.num_skipped += 1
            print_log(f'skipped unreadable image {problem}; {self.num_skipped} skipped so far '
                      'in this data worker', logger='current', level=logging.WARNING)
            return None
        return loaded

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f', skip_unreadable={self.skip_unreadable})'
