from .pixel_shuffle_decoder import PixelShuffleDecoder
from .simple_feature_pyramid import SimpleFeaturePyramid

__all__ = ['PixelShuffleDecoder', 'SimpleFeaturePyramid']
