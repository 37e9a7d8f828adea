"""SymMIM's symmetric masks: checkerboards of two cell sizes, one per encoder branch."""
from typing import Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mim_agnostic.registry import TRANSFORMS
from .block_mask import _pair


def checkerboard(grid: Sequence[int], cell: int, phase: int = 0) -> np.ndarray:
    """(h, w) int64 mask ``M(i, j) = (floor(i / cell) + floor(j / cell) + phase) mod 2``."""
    rows = np.arange(grid[0])[:, None] // cell
    cols = np.arange(grid[1])[None, :] // cell
    return ((rows + cols + phase) % 2).astype(np.int64)


@TRANSFORMS.register_module()
class CheckerboardMaskGenerator(BaseTransform):
    """The two symmetric SymMIM masks at the token grid ``input_size / model_patch_size``.

    ``mask`` (online encoder) is the checkerboard of ``mask_patch_size`` cells — SymMIM's
    M1(i, j) = (i + j) mod 2 when the cell is one patch — and ``momentum_mask`` (momentum
    encoder) the checkerboard of ``momentum_scale x mask_patch_size`` cells — M2 with
    k = ``momentum_scale``. Every masked cell has visible neighbours on all four sides and
    the pattern is symmetric under flips. On an even number of cells per side exactly half
    of the tokens are masked (ViT-B/16 at 224: M1 98 of 196); an odd number (M2 at 224,
    7x7 cells of 32 px) masks 24 or 25 of 49 cells, 50 % on average over the two phases.

    Added keys: ``mask`` and, unless ``momentum_scale`` is None, ``momentum_mask``
    (np.ndarray int64 (H/P, W/P), 1 = masked; pack it with
    ``PackInputs(algorithm_keys=('momentum_mask',))``).

    Args:
        input_size: crop size in pixels, int or (h, w).
        mask_patch_size: side of an M1 cell in pixels (16 = one ViT-B/16 patch).
        model_patch_size: stride in pixels of the feature map that receives the mask token.
        momentum_scale: k, M2 cells are k x mask_patch_size pixels; None = M1 only.
        random_phase: draw the phase of each mask (which of the two colours is masked)
            uniformly per image; False = phase 0, the formula of the paper.
    """

    def __init__(self,
                 input_size: Union[int, Sequence[int]] = 224,
                 mask_patch_size: int = 16,
                 model_patch_size: int = 16,
                 momentum_scale: Optional[int] = 2,
                 random_phase: bool = False) -> None:
        self.input_size = _pair(input_size, 'input_size')
        cells = [mask_patch_size] + ([] if momentum_scale is None
                                     else [mask_patch_size * momentum_scale])
        if momentum_scale is not None and (not isinstance(momentum_scale, int)
                                           or momentum_scale < 1):
            raise ValueError(f'CheckerboardMaskGenerator: momentum_scale={momentum_scale!r} '
                             'must be a positive int or None')
        if mask_patch_size % model_patch_size:
            raise ValueError(f'CheckerboardMaskGenerator: mask_patch_size={mask_patch_size} '
                             f'is not divisible by model_patch_size={model_patch_size}')
        if any(side % model_patch_size for side in self.input_size):
            raise ValueError(f'CheckerboardMaskGenerator: input_size={self.input_size} is not '
                             f'divisible by model_patch_size={model_patch_size}')
        self.mask_patch_size = mask_patch_size
        self.model_patch_size = model_patch_size
        self.momentum_scale = momentum_scale
        self.random_phase = random_phase
        self.grid = (self.input_size[0] // model_patch_size,
                     self.input_size[1] // model_patch_size)
        self.cells_in_tokens = [cell // model_patch_size for cell in cells]

    def _phase(self) -> int:
        return int(np.random.randint(2)) if self.random_phase else 0

    def transform(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        if (height, width) != self.input_size:
            raise ValueError(
                f'CheckerboardMaskGenerator: the image {results.get("img_path", "")} is '
                f'{height}x{width} but input_size is {self.input_size[0]}x{self.input_size[1]};'
                ' crop or resize to input_size before masking')
        results['mask'] = checkerboard(self.grid, self.cells_in_tokens[0], self._phase())
        if self.momentum_scale is not None:
            results['momentum_mask'] = checkerboard(self.grid, self.cells_in_tokens[1],
                                                    self._phase())
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(input_size={self.input_size}, '
                f'mask_patch_size={self.mask_patch_size}, '
                f'model_patch_size={self.model_patch_size}, '
                f'momentum_scale={self.momentum_scale}, random_phase={self.random_phase})')
