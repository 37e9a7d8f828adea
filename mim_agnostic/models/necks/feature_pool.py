"""One (B, C) feature per image from a backbone's last output, whatever its layout."""
from typing import Sequence, Tuple

import torch
from mmengine.model import BaseModule

from mim_agnostic.registry import MODELS


@MODELS.register_module()
class FeaturePool(BaseModule):
    """Pool the last backbone output to (B, C): the feature of the evaluation protocols and
    the neck of the exported linear-probe classifier (so both are one function).

    Layouts: (B, C, H, W) maps (CNNs, Swin, ViTs with ``out_type='featmap'``) -> mean over
    H, W; (B, L, C) token sequences (ViTs with ``out_type='raw'``) -> mean of the patch
    tokens after ``num_extra_tokens`` (``'avg'``) or token 0 (``'cls'``); (B, C) outputs
    (already pooled, e.g. ConvNeXt, MixMIM, ``out_type='cls_token'``) pass through.

    Args:
        mode: ``'avg'`` or ``'cls'``.
        num_extra_tokens: cls/distillation tokens ahead of the patch tokens in (B, L, C).
    """

    MODES = ('avg', 'cls')

    def __init__(self, mode: str = 'avg', num_extra_tokens: int = 1) -> None:
        super().__init__()
        if mode not in self.MODES:
            raise ValueError(f'FeaturePool: mode={mode!r} is not one of {self.MODES}')
        self.mode = mode
        self.num_extra_tokens = num_extra_tokens

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) | (B, L, C) | (B, C) -> (B, C)."""
        if x.dim() == 2:
            return x
        if x.dim() == 4:
            if self.mode == 'cls':
                raise ValueError(f'FeaturePool(mode="cls"): the backbone returned a '
                                 f'{tuple(x.shape)} map without a cls token; use mode="avg" '
                                 'or a ViT with out_type="raw"')
            return x.mean(dim=(2, 3))
        if x.dim() == 3:
            if self.mode == 'cls':
                return x[:, 0]
            return x[:, self.num_extra_tokens:].mean(dim=1)
        raise ValueError(f'FeaturePool: cannot pool a {tuple(x.shape)} output')

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor]:
        """inputs: the backbone's outputs; the last one is pooled."""
        last = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
        return (self.pool(last), )

    def extra_repr(self) -> str:
        return f'mode={self.mode}, num_extra_tokens={self.num_extra_tokens}'
