"""ConvNeXt with the mask token added after one downsample layer."""
from typing import Optional, Tuple

import torch
from mmpretrain.models.backbones import ConvNeXt

from mim_agnostic.registry import MODELS
from ..utils import use_python_drop_probs
from .mask_in_middle import MaskTokenMixer


@MODELS.register_module()
class MIMConvNeXt(ConvNeXt):
    """mmpretrain :class:`ConvNeXt` (T/S/B/L...) + a mask token.

    ``mask_stage = i`` mixes the token in after downsample layer ``i`` and before the blocks
    of stage ``i``: 0 = after the 4x4 stem (stride 4), 3 = input of stage 4 (stride 32, 7x7
    at 224; the A²MIM default). Without a mask, ``forward`` is exactly
    :meth:`ConvNeXt.forward`.

    Args:
        mask_stage: 0..3. mask_mode, mask_gamma_init: see :class:`MaskTokenMixer`.
        **kwargs: :class:`ConvNeXt` arguments (arch, out_indices, drop_path_rate, ...).
    """

    def __init__(self, mask_stage: int = 3, mask_mode: str = 'residual',
                 mask_gamma_init: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        if not 0 <= mask_stage < len(self.stages):
            raise ValueError(f'MIMConvNeXt: mask_stage={mask_stage} must be in '
                             f'[0, {len(self.stages) - 1}]')
        self.mask_stage = mask_stage
        self.mask_mixer = MaskTokenMixer(self.channels[mask_stage], 'nchw', mask_mode,
                                         mask_gamma_init)
        use_python_drop_probs(self)  # torch.compile: no graph break per block

    @property
    def mask_stride(self) -> int:
        return 4 * 2**self.mask_stage

    def forward(self, x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, ...]:
        """x: (B, 3, H, W); mask: (B, H/s, W/s) with s = :attr:`mask_stride`, or None."""
        if mask is None:
            return super().forward(x)
        outs = []
        for i, stage in enumerate(self.stages):
            x = self.downsample_layers[i](x)
            if i == self.mask_stage:
                x = self.mask_mixer(x, mask)
            x = stage(x)
            if i in self.out_indices:
                norm_layer = getattr(self, f'norm{i}')
                if self.gap_before_final_norm:
                    outs.append(norm_layer(x.mean([-2, -1], keepdim=True)).flatten(1))
                else:
                    outs.append(norm_layer(x))
        return tuple(outs)
