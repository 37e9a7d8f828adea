from .masked_image_preprocessor import MaskedImageDataPreprocessor

__all__ = ['MaskedImageDataPreprocessor']
