"""Image loading that names the file and the problem, or skips unreadable files, and refuses
decompression bombs from their header before decoding them."""
import logging
import os.path as osp
import warnings
from typing import Optional, Tuple

from mmcv.transforms import LoadImageFromFile
from mmengine import fileio
from mmengine.logging import print_log
from PIL import Image

from mim_agnostic.registry import TRANSFORMS


def describe_unreadable(path: str) -> str:
    """Why ``path`` could not be read, in words."""
    if not osp.isfile(path):
        return f'{path}: no such file'
    if osp.getsize(path) == 0:
        return f'{path}: empty file (0 bytes)'
    return f'{path}: cannot be decoded as an image (corrupt or truncated file?)'


# 2**28 = 268 million pixels (e.g. 16384 x 16384): above the largest photos cameras take
# (200 MP phone sensors: 16320 x 12240; 150 MP medium format: 14204 x 10652), while decoding
# one image at this limit to 3 x 8 bit needs ~0.8 GB, not the ~9 GB of a 30000 x 30000 bomb.
DEFAULT_MAX_PIXELS = 2**28


class ImageTooLargeError(ValueError):
    """An image whose header declares more pixels than allowed."""


def read_image_size(path: str) -> Optional[Tuple[int, int]]:
    """(width, height) declared in the header of the image file at ``path``, read without
    decoding any pixel (milliseconds, kilobytes); None if PIL cannot identify the file (the
    decoder will then report it)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                return image.size
        except Image.DecompressionBombError:
            # PIL will not even report a size above 2 x MAX_IMAGE_PIXELS: lift its limit for
            # this header read (Image.open decodes nothing) so the message can give the size
            limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
            try:
                with Image.open(path) as image:
                    return image.size
            finally:
                Image.MAX_IMAGE_PIXELS = limit
        except Exception:  # missing, empty, not an image: the decoder names the problem
            return None


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """mmcv's :class:`LoadImageFromFile` (decoded as 3-channel uint8: grayscale is
    replicated, an alpha channel dropped, 16-bit scaled to 8-bit) whose failures name the
    file and the problem, or are skipped.

    Args:
        skip_unreadable: instead of stopping the run, drop a missing, empty, corrupt,
            truncated or too large image (the dataset fetches another index) and log a
            warning with the number skipped so far in this data worker. Off by default: a
            broken dataset should be noticed, not trained around.
        max_pixels: refuse, before decoding, an image whose header declares more pixels
            (width x height) than this: a decompression bomb (a 1 MB PNG can declare
            30000 x 30000 pixels and take 9 GB to decode). None: no limit.
        **kwargs: :class:`LoadImageFromFile` arguments.
    """

    def __init__(self, skip_unreadable: bool = False,
                 max_pixels: Optional[int] = DEFAULT_MAX_PIXELS, **kwargs) -> None:
        if kwargs.get('ignore_empty'):
            raise ValueError('CheckedLoadImageFromFile: use skip_unreadable=True instead of '
                             'ignore_empty=True (it also logs what it skips)')
        super().__init__(**kwargs)
        self.skip_unreadable = skip_unreadable
        self.max_pixels = max_pixels
        self.num_skipped = 0

    def check_pixel_count(self, path: str) -> None:
        """Raise ImageTooLargeError if the header of ``path`` declares over ``max_pixels``."""
        if self.max_pixels is None:
            return
        with fileio.get_local_path(path, backend_args=self.backend_args) as local_path:
            size = read_image_size(local_path)
        if size is not None and size[0] * size[1] > self.max_pixels:
            width, height = size
            raise ImageTooLargeError(
                f'{path}: {width} x {height} = {width * height:,} pixels, over max_pixels='
                f'{self.max_pixels:,} (a decompression bomb?); not decoded. To load such '
                f'images raise max_pixels of {type(self).__name__} (None: no limit)')

    def transform(self, results: dict) -> Optional[dict]:
        path = results['img_path']
        try:
            self.check_pixel_count(path)
            return super().transform(results)
        except ImageTooLargeError as error:
            return self.fail(path, str(error), error)
        except Exception as error:  # mmcv raises AssertionError, cv2.error, OSError, ...
            return self.fail(path, describe_unreadable(path), error)

    def fail(self, path: str, problem: str, error: Exception) -> None:
        """Raise ``problem`` about ``path`` or, with ``skip_unreadable``, log and count it."""
        if not self.skip_unreadable:
            kind = FileNotFoundError if not osp.isfile(path) else ValueError
            raise kind(f'{problem} (set skip_unreadable=True on '
                       f'{type(self).__name__} to skip such images)') from error
        self.num_skipped += 1
        print_log(f'skipped unreadable image {problem}; {self.num_skipped} skipped so far '
                  'in this data worker', logger='current', level=logging.WARNING)

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + (f', skip_unreadable={self.skip_unreadable}, '
                                          f'max_pixels={self.max_pixels})')
