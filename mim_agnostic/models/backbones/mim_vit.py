"""Vision Transformer (BEiT-style encoder, as the A²MIM reference) with a mask token."""
from typing import Optional, Tuple

import torch
from mmpretrain.models.backbones import BEiTViT
from mmpretrain.models.utils import resize_pos_embed

from mim_agnostic.registry import MODELS
from ..utils import use_python_drop_probs
from .mask_in_middle import MaskTokenMixer


@MODELS.register_module()
class MIMViT(BEiTViT):
    """mmpretrain :class:`BEiTViT` + a mask token on the patch tokens.

    The reference A²MIM/SimMIM ViT is this encoder: absolute *and* per-layer relative
    position embeddings, layer scale 0.1, q/v biases, LN eps 1e-6, final LN, output the
    patch tokens as a (B, D, h, w) map. Arch ``'small'`` is the 768-d x 8-layer mmcls ViT-S
    of the paper (not DeiT-S, which is ``'deit-small'``).

    ``mask_layer = 0`` mixes the token in right after the patch embedding, before the cls
    token and the position embedding; ``mask_layer = k >= 1`` before transformer block k
    (1-indexed; the cls token is left alone). Without a mask, ``forward`` is exactly
    :meth:`BEiTViT.forward`.

    Args:
        mask_layer: 0..num_layers-1. mask_mode, mask_gamma_init: see :class:`MaskTokenMixer`.
        **kwargs: :class:`BEiTViT` arguments.
    """

    def __init__(self, mask_layer: int = 0, mask_mode: str = 'residual',
                 mask_gamma_init: float = 0.0, **kwargs) -> None:
        kwargs.setdefault('out_type', 'featmap')
        kwargs.setdefault('use_abs_pos_emb', True)
        kwargs.setdefault('use_rel_pos_bias', True)
        kwargs.setdefault('layer_scale_init_value', 0.1)
        kwargs.setdefault('norm_cfg', dict(type='LN', eps=1e-6))
        kwargs.setdefault('final_norm', True)
        super().__init__(**kwargs)
        if not 0 <= mask_layer < self.num_layers:
            raise ValueError(f'MIMViT: mask_layer={mask_layer} must be in '
                             f'[0, {self.num_layers - 1}]')
        self.mask_layer = mask_layer
        self.mask_mixer = MaskTokenMixer(self.embed_dims, 'nlc', mask_mode, mask_gamma_init)
        use_python_drop_probs(self)  # torch.compile: no graph break per block

    @property
    def mask_stride(self) -> int:
        return self.patch_embed.projection.stride[0]

    def _mix_patch_tokens(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        extra = x[:, :self.num_extra_tokens]
        patches = self.mask_mixer(x[:, self.num_extra_tokens:], mask)
        return torch.cat((extra, patches), dim=1)

    def forward(self, x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, ...]:
        """x: (B, 3, H, W); mask: (B, H/p, W/p) for patch size p, or None."""
        if mask is None:
            return super().forward(x)
        batch = x.shape[0]
        x, patch_resolution = self.patch_embed(x)
        if self.mask_layer == 0:
            x = self.mask_mixer(x, mask)
        if self.cls_token is not None:
            x = torch.cat((self.cls_token.expand(batch, -1, -1), x), dim=1)
        if self.pos_embed is not None:
            x = x + resize_pos_embed(
                self.pos_embed, self.patch_resolution, patch_resolution,
                mode=self.interpolate_mode, num_extra_tokens=self.num_extra_tokens)
        x = self.drop_after_pos(x)
        rel_pos_bias = self.rel_pos_bias() if self.rel_pos_bias is not None else None
        outs = []
        for i, layer in enumerate(self.layers):
            if i + 1 == self.mask_layer:  # before block k (1-indexed) = before self.layers[k-1]
                x = self._mix_patch_tokens(x, mask)
            x = layer(x, rel_pos_bias)
            if i == len(self.layers) - 1 and self.final_norm:
                x = self.ln1(x)
            if i in self.out_indices:
                outs.append(self._format_output(x, patch_resolution))
        return tuple(outs)
