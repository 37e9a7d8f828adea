"""ResNet with the mask token added at the input of one residual stage."""
import math
from typing import Optional, Tuple

import torch
from mmpretrain.models.backbones import ResNet
from mmpretrain.models.backbones.resnet import Bottleneck

from mim_agnostic.registry import MODELS
from ..utils import use_python_drop_probs
from .mask_in_middle import MaskTokenMixer


@MODELS.register_module()
class MIMResNet(ResNet):
    """mmpretrain :class:`ResNet` (depth 18/34/50/101/152/200) + a mask token.

    ``mask_stage = i`` mixes the token into the input of ``layer{i+1}``: 0 = after the stem
    and max-pool (stride 4, 56x56 at 224), 3 = input of layer4 (stride 16, 14x14, 1024
    channels for R50+; the A²MIM default). Without a mask, ``forward`` is exactly
    :meth:`ResNet.forward`, and every ResNet key is unchanged, so weights transfer.

    Args:
        mask_stage: stage whose input receives the token, 0..3.
        mask_mode: ``'residual'`` (A²MIM) or ``'replace'`` (SimMIM).
        mask_gamma_init: initial gain gamma on masked features (1e-6 in A²MIM ``_init_``
            configs); 0 = no gamma.
        **kwargs: :class:`ResNet` arguments (depth, out_indices, norm_cfg, ...).
    """

    # mmpretrain stops at 152; ResNet-200 (He et al., 2016, identity mappings) as in A²MIM
    arch_settings = {**ResNet.arch_settings, 200: (Bottleneck, (3, 24, 36, 3))}

    def __init__(self, mask_stage: int = 3, mask_mode: str = 'residual',
                 mask_gamma_init: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        if not 0 <= mask_stage < len(self.res_layers):
            raise ValueError(f'MIMResNet: mask_stage={mask_stage} must be in '
                             f'[0, {len(self.res_layers) - 1}]')
        self.mask_stage = mask_stage
        first_block = getattr(self, self.res_layers[mask_stage])[0]
        self.mask_mixer = MaskTokenMixer(first_block.in_channels, 'nchw', mask_mode,
                                         mask_gamma_init)
        use_python_drop_probs(self)  # torch.compile: no graph break per block

    @property
    def mask_stride(self) -> int:
        """Pixel stride of the feature map that receives the token."""
        return 4 * math.prod(self.strides[:self.mask_stage])

    def forward(self, x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, ...]:
        """x: (B, 3, H, W); mask: (B, H/s, W/s) with s = :attr:`mask_stride`, or None."""
        if mask is None:
            return super().forward(x)
        if self.deep_stem:
            x = self.stem(x)
        else:
            x = self.relu(self.norm1(self.conv1(x)))
        x = self.maxpool(x)
        outs = []
        for i, layer_name in enumerate(self.res_layers):
            if i == self.mask_stage:
                x = self.mask_mixer(x, mask)
            x = getattr(self, layer_name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
