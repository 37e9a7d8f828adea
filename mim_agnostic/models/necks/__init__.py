from .feature_pool import FeaturePool
from .pixel_shuffle_decoder import PixelShuffleDecoder
from .simple_feature_pyramid import SimpleFeaturePyramid

__all__ = ['FeaturePool', 'PixelShuffleDecoder', 'SimpleFeaturePyramid']
