from .block_mask import BlockMaskGenerator

__all__ = ['BlockMaskGenerator']
