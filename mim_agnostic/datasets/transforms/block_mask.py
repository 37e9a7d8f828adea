"""Random block masking at the token grid of the stage where the mask token goes in."""
import math
from typing import Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mim_agnostic.registry import TRANSFORMS


def _pair(value: Union[int, Sequence[int]], key: str) -> Tuple[int, int]:
    if isinstance(value, int):
        return value, value
    if len(value) == 2 and all(isinstance(v, int) for v in value):
        return int(value[0]), int(value[1])
    raise TypeError(f'{key} must be an int or a pair of ints (h, w), got {value!r}')


@TRANSFORMS.register_module()
class BlockMaskGenerator(BaseTransform):
    """Mask ``ceil(mask_ratio * cells)`` random ``mask_patch_size`` blocks of the crop.

    The cells are drawn uniformly without replacement (SimMIM/A²MIM random block masking:
    30 of 49 cells at 224 px, 32 px blocks, ratio 0.6) and the block grid is repeated up to
    the token grid of the insertion stage, ``input_size / model_patch_size``: 14x14 for a
    ResNet stage-4 input or ViT/16, 7x7 for ConvNeXt stage 4, 56x56 for ResNet stage 1.

    Added key: ``mask`` (np.ndarray, int64, (H/P, W/P), 1 = masked), which ``PackInputs``
    moves to ``DataSample.mask``. The pixels are not touched: the mean fill happens on the
    batch, on the device (:class:`MaskedImageDataPreprocessor`).

    Args:
        input_size: crop size in pixels, int or (h, w).
        mask_patch_size: side of a masked block in pixels.
        model_patch_size: stride in pixels of the feature map that receives the mask token.
        mask_ratio: fraction of blocks to mask, in (0, 1).
    """

    def __init__(self,
                 input_size: Union[int, Sequence[int]] = 224,
                 mask_patch_size: int = 32,
                 model_patch_size: int = 16,
                 mask_ratio: float = 0.6) -> None:
        self.input_size = _pair(input_size, 'input_size')
        if any(side % mask_patch_size for side in self.input_size):
            raise ValueError(f'BlockMaskGenerator: input_size={self.input_size} is not '
                             f'divisible by mask_patch_size={mask_patch_size}')
        if mask_patch_size % model_patch_size:
            raise ValueError(f'BlockMaskGenerator: mask_patch_size={mask_patch_size} is not '
                             f'divisible by model_patch_size={model_patch_size}')
        if not 0 < mask_ratio < 1:
            raise ValueError(f'BlockMaskGenerator: mask_ratio={mask_ratio} must be in (0, 1)')
        self.mask_patch_size = mask_patch_size
        self.model_patch_size = model_patch_size
        self.mask_ratio = mask_ratio
        self.block_grid = (self.input_size[0] // mask_patch_size,
                           self.input_size[1] // mask_patch_size)
        self.num_masked_blocks = math.ceil(self.block_grid[0] * self.block_grid[1] * mask_ratio)
        self.scale = mask_patch_size // model_patch_size

    def generate_mask(self) -> np.ndarray:
        """One mask, (H/P, W/P) int64, from numpy's global RNG (seeded per sample by
        :class:`SampleSeededDataset` in the toolkit's configs, else per worker by mmengine's
        ``worker_init_fn``)."""
        num_blocks = self.block_grid[0] * self.block_grid[1]
        masked = np.random.permutation(num_blocks)[:self.num_masked_blocks]
        blocks = np.zeros(num_blocks, dtype=np.int64)
        blocks[masked] = 1
        blocks = blocks.reshape(self.block_grid)
        return blocks.repeat(self.scale, axis=0).repeat(self.scale, axis=1)

    def transform(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        if (height, width) != self.input_size:
            raise ValueError(
                f'BlockMaskGenerator: the image {results.get("img_path", "")} is '
                f'{height}x{width} but input_size is {self.input_size[0]}x{self.input_size[1]}; '
                'crop or resize to input_size before masking')
        results['mask'] = self.generate_mask()
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(input_size={self.input_size}, '
                f'mask_patch_size={self.mask_patch_size}, '
                f'model_patch_size={self.model_patch_size}, mask_ratio={self.mask_ratio})')
