from .block_mask import BlockMaskGenerator
from .checkerboard_mask import CheckerboardMaskGenerator
from .loading import CheckedLoadImageFromFile
from .seg_label_check import CheckSegLabels

__all__ = ['BlockMaskGenerator', 'CheckerboardMaskGenerator', 'CheckedLoadImageFromFile',
           'CheckSegLabels']
