from .transforms import BlockMaskGenerator

__all__ = ['BlockMaskGenerator']
