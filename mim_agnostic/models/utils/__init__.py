from .compile_friendly import use_python_drop_probs
from .mask_ops import fill_masked_with_image_mean, mask_to_pixels
from .momentum_encoder import MomentumEncoder

__all__ = ['fill_masked_with_image_mean', 'mask_to_pixels', 'MomentumEncoder',
           'use_python_drop_probs']
