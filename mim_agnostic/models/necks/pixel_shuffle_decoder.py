"""The light A²MIM/SimMIM decoder: 1x1 conv to stride^2 * 3 channels + PixelShuffle."""
from typing import Optional, Sequence, Union

import torch
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from torch import nn

from mim_agnostic.registry import MODELS


@MODELS.register_module()
class PixelShuffleDecoder(BaseModule):
    """Last feature map (B, C, h, w) -> image (B, out_channels, h*s, w*s), s = encoder_stride.

    Purely linear by default (the reference ``NonLinearMIMNeck`` with ``decoder_cfg=None``).
    ``num_conv_layers > 0`` adds the reference's small non-linear decoder before the
    prediction: depthwise ``conv_kernel_size`` conv (no bias) + LN2d + GELU, repeated.

    Args:
        in_channels: C of the last backbone feature map.
        encoder_stride: s, the backbone's total stride (32 for ResNet/ConvNeXt, 16 for ViT/16).
        out_channels: predicted image channels.
        kernel_size: kernel of the prediction conv (1 in every reference config).
        num_conv_layers: depth of the optional non-linear decoder.
        conv_kernel_size: kernel of the depthwise convs of that decoder.
    """

    def __init__(self, in_channels: int, encoder_stride: int, out_channels: int = 3,
                 kernel_size: int = 1, num_conv_layers: int = 0, conv_kernel_size: int = 5,
                 init_cfg: Optional[Union[dict, Sequence[dict]]] = None) -> None:
        super().__init__(init_cfg)
        self.encoder_stride = encoder_stride
        layers = []
        for _ in range(num_conv_layers):
            layers += [
                nn.Conv2d(in_channels, in_channels, conv_kernel_size,
                          padding=conv_kernel_size // 2, groups=in_channels, bias=False),
                build_norm_layer(dict(type='mmpretrain.LN2d', eps=1e-6), in_channels)[1],
                nn.GELU()
            ]
        self.decoder = nn.Sequential(*layers)
        self.predictor = nn.Conv2d(in_channels, encoder_stride**2 * out_channels, kernel_size,
                                   padding=kernel_size // 2)
        self.pixel_shuffle = nn.PixelShuffle(encoder_stride)

    def init_weights(self) -> None:
        super().init_weights()
        if self.init_cfg is None:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    trunc_normal_(m.weight, std=0.02)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        x = feats[-1] if isinstance(feats, (list, tuple)) else feats
        return self.pixel_shuffle(self.predictor(self.decoder(x)))
