from .any_backbone import AnyMIMBackbone
from .mask_in_middle import MaskTokenMixer
from .mim_convnext import MIMConvNeXt
from .mim_resnet import MIMResNet
from .mim_vit import MIMViT

__all__ = ['AnyMIMBackbone', 'MaskTokenMixer', 'MIMResNet', 'MIMViT', 'MIMConvNeXt']
