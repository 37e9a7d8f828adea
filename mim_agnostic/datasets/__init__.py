from .image_folder import UnlabeledImageFolder
from .transforms import BlockMaskGenerator

__all__ = ['BlockMaskGenerator', 'UnlabeledImageFolder']
