"""The mask-in-middle mechanism: a learnable mask token mixed into one stage's features.

Shared by every MIM backbone (ResNet, ViT, ConvNeXt): the backbone decides *where* the
token goes, :class:`MaskTokenMixer` decides *how*.
"""
from typing import Optional

import torch
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from torch import nn

MIX_MODES = ('residual', 'replace')


class MaskTokenMixer(BaseModule):
    """Mix a learnable token into the masked positions of a feature map.

    ``'replace'`` (SimMIM): ``z <- (1 - m) * z + m * t``.
    ``'residual'`` (A²MIM): ``z <- (1 - m) * z + m * (gamma * z) + m * t``, i.e. masked
    features become ``gamma * z + t`` (``z + t`` without gamma), visible ones are unchanged.

    Args:
        channels: feature channels C.
        layout: ``'nchw'`` for (B, C, h, w) maps (token and gamma (1, C, 1, 1)) or
            ``'nlc'`` for (B, L, C) token sequences (token and gamma (1, 1, C)).
        mode: ``'residual'`` or ``'replace'``.
        mask_gamma_init: initial value of the per-channel gain gamma; 0 disables gamma.
            Only used in ``'residual'`` mode (the reference's ``mask_init``).
    """

    def __init__(self, channels: int, layout: str = 'nchw', mode: str = 'residual',
                 mask_gamma_init: float = 0.0) -> None:
        super().__init__()
        if layout not in ('nchw', 'nlc'):
            raise ValueError(f'MaskTokenMixer: layout={layout!r} must be "nchw" or "nlc"')
        if mode not in MIX_MODES:
            raise ValueError(f'MaskTokenMixer: mode={mode!r} must be one of {MIX_MODES}')
        self.layout = layout
        self.mode = mode
        shape = (1, channels, 1, 1) if layout == 'nchw' else (1, 1, channels)
        self.mask_token = nn.Parameter(torch.zeros(shape))
        trunc_normal_(self.mask_token, mean=0.0, std=0.02)
        self.mask_gamma: Optional[nn.Parameter] = None
        if mode == 'residual' and mask_gamma_init > 0:
            self.mask_gamma = nn.Parameter(torch.full(shape, float(mask_gamma_init)))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x: (B, C, h, w) or (B, h*w, C); mask: (B, h, w), 1 = masked. Returns x's shape."""
        if self.layout == 'nchw':
            expected = (x.shape[0], *x.shape[2:])
            m = mask.reshape(x.shape[0], 1, *x.shape[2:]) if mask.shape == expected else None
        else:
            expected = (x.shape[0], x.shape[1])
            m = mask.reshape(x.shape[0], -1, 1) if mask[0].numel() == x.shape[1] and \
                mask.shape[0] == x.shape[0] else None
        if m is None:
            raise ValueError(
                f'mask of shape {tuple(mask.shape)} does not match the feature grid of shape '
                f'{tuple(x.shape)} ({self.layout}) where the mask token is inserted: the mask '
                "generator's model_patch_size must equal the stride of that stage")
        m = m.to(x.dtype)
        token = self.mask_token.to(x.dtype)
        if self.mode == 'replace':
            return x * (1 - m) + token * m
        if self.mask_gamma is not None:
            x = x * (1 - m) + (self.mask_gamma.to(x.dtype) * x) * m
        return x + token * m

    def extra_repr(self) -> str:
        gamma = None if self.mask_gamma is None else float(self.mask_gamma.flatten()[0])
        return f'layout={self.layout}, mode={self.mode}, mask_gamma_init={gamma}'
