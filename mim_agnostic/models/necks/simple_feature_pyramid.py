"""ViTDet's simple feature pyramid: one stride-16 ViT map -> strides 4, 8, 16, 32 (+64)."""
from typing import List, Sequence, Tuple

import torch
from mmcv.cnn import ConvModule, build_norm_layer
from mmengine.model import BaseModule
from torch import nn

from mim_agnostic.registry import MODELS


@MODELS.register_module()
class SimpleFeaturePyramid(BaseModule):
    """Li et al., "Exploring Plain Vision Transformer Backbones for Object Detection" (2022).

    The last map (B, C, H/16, W/16) is rescaled by ``scale_factors`` (4 and 2: transposed
    convs with LN2d + GELU between; 1: identity; 0.5: max-pool), then each level gets a 1x1
    and a 3x3 conv (each + norm) to ``out_channels``. With ``num_outs`` one more than the
    scales, a stride-2 max-pool of the coarsest level is appended (P6 for the RPN).

    Returns:
        tuple of (B, out_channels, H/s, W/s) for s = 4, 8, 16, 32 (, 64).
    """

    def __init__(self, in_channels: int, out_channels: int = 256,
                 scale_factors: Sequence[float] = (4.0, 2.0, 1.0, 0.5), num_outs: int = 5,
                 norm_cfg: dict = dict(type='mmpretrain.LN2d', eps=1e-6),
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        if num_outs not in (len(scale_factors), len(scale_factors) + 1):
            raise ValueError(f'SimpleFeaturePyramid: num_outs={num_outs} must be '
                             f'{len(scale_factors)} or {len(scale_factors) + 1}')
        self.num_outs = num_outs
        self.rescales = nn.ModuleList(
            [self._rescale(in_channels, factor, norm_cfg) for factor in scale_factors])
        self.lateral = nn.ModuleList([
            ConvModule(in_channels, out_channels, 1, norm_cfg=norm_cfg, act_cfg=None)
            for _ in scale_factors])
        self.output = nn.ModuleList([
            ConvModule(out_channels, out_channels, 3, padding=1, norm_cfg=norm_cfg,
                       act_cfg=None) for _ in scale_factors])

    @staticmethod
    def _rescale(channels: int, factor: float, norm_cfg: dict) -> nn.Module:
        if factor == 4.0:
            return nn.Sequential(
                nn.ConvTranspose2d(channels, channels, 2, stride=2),
                build_norm_layer(norm_cfg, channels)[1], nn.GELU(),
                nn.ConvTranspose2d(channels, channels, 2, stride=2))
        if factor == 2.0:
            return nn.ConvTranspose2d(channels, channels, 2, stride=2)
        if factor == 1.0:
            return nn.Identity()
        if factor == 0.5:
            return nn.MaxPool2d(2, stride=2)
        raise ValueError(f'SimpleFeaturePyramid: scale factor {factor} is not one of '
                         '4, 2, 1, 0.5')

    def forward(self, feats: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        x = feats[-1]
        outs: List[torch.Tensor] = [
            output(lateral(rescale(x)))
            for rescale, lateral, output in zip(self.rescales, self.lateral, self.output)]
        if self.num_outs > len(outs):
            outs.append(nn.functional.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
