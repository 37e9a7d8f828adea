from .block_mask import BlockMaskGenerator
from .checkerboard_mask import CheckerboardMaskGenerator

__all__ = ['BlockMaskGenerator', 'CheckerboardMaskGenerator']
