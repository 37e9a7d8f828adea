"""A researcher's own MIM components, outside mim_agnostic: importing this package registers
them in the toolkit's registries (``custom_imports=dict(imports=['my_mim_ext'])``)."""
from .charbonnier_loss import MaskedCharbonnierLoss
from .stripe_mask import StripeMaskGenerator

__all__ = ['MaskedCharbonnierLoss', 'StripeMaskGenerator']
