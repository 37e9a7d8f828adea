"""Mask whole rows of blocks: a mask generator the toolkit does not ship."""
import math

import numpy as np
from mmcv.transforms import BaseTransform

from mim_agnostic.registry import TRANSFORMS


@TRANSFORMS.register_module()
class StripeMaskGenerator(BaseTransform):
    """Mask ``ceil(mask_ratio * rows)`` random full-width rows of ``mask_patch_size`` px.

    Added key: ``mask`` (np.ndarray int64 (H/P, W/P) at the token grid of stride
    ``model_patch_size``, 1 = masked), like the toolkit's own generators, so the A²MIM
    preprocessor fills it and the backbone's mask token reads it unchanged.
    """

    def __init__(self, input_size: int = 224, mask_patch_size: int = 32,
                 model_patch_size: int = 16, mask_ratio: float = 0.5) -> None:
        if input_size % mask_patch_size or mask_patch_size % model_patch_size:
            raise ValueError(f'StripeMaskGenerator: input_size={input_size}, mask_patch_size='
                             f'{mask_patch_size} and model_patch_size={model_patch_size} '
                             'must divide one another')
        self.input_size = input_size
        self.model_patch_size = model_patch_size
        self.rows = input_size // mask_patch_size
        self.num_masked = math.ceil(self.rows * mask_ratio)
        self.scale = mask_patch_size // model_patch_size

    def transform(self, results: dict) -> dict:
        rows = np.zeros(self.rows, dtype=np.int64)
        rows[np.random.permutation(self.rows)[:self.num_masked]] = 1
        grid = np.repeat(rows[:, None], self.rows, axis=1)
        results['mask'] = grid.repeat(self.scale, 0).repeat(self.scale, 1)
        return results
