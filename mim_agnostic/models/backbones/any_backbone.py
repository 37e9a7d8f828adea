"""A²MIM on any registered backbone: the mask token goes into the input of a named module.

No new backbone code: :class:`AnyMIMBackbone` builds the backbone from its config, finds the
module named by ``mask_at`` (a module path such as ``'stages.2'`` or a stage index), probes
one forward pass to learn that module's input layout, channels and stride, and mixes the
token into the module's input through a forward pre-hook whenever a mask is given.
"""
from typing import Optional, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from mim_agnostic.registry import MODELS
from ..utils import use_python_drop_probs
from ..utils.module_paths import resolve_module, token_grid
from .mask_in_middle import MaskTokenMixer


@MODELS.register_module()
class AnyMIMBackbone(BaseModule):
    """Any registered backbone + a mask token at the input of the module ``mask_at``.

    The input of that module (the first positional argument; a (B, C, h, w) map or a
    (B, [extra +] h*w, C) token sequence, e.g. a Swin stage) gets
    :class:`MaskTokenMixer` at its masked positions; extra tokens (cls) are left alone.
    Without a mask, ``forward`` is the backbone's own. State-dict keys are
    ``backbone.<backbone keys>`` and ``mask_mixer.*`` (dropped by the backbone extraction).

    Args:
        backbone: config of any registered backbone whose forward returns a tuple of
            feature maps, e.g. ``dict(type='SwinTransformer', arch='tiny')``.
        mask_at: module path (``'stages.2'``, ``'network.4'``, ``'layer4'``) or stage index.
        mask_mode, mask_gamma_init: see :class:`MaskTokenMixer`.
        probe_size: image size (px) of the one build-time forward pass that measures the
            layout, channels and stride of the module input (the pretraining crop size).
    """

    def __init__(self, backbone: dict, mask_at: Union[str, int], mask_mode: str = 'residual',
                 mask_gamma_init: float = 0.0, probe_size: int = 224,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        self.backbone = use_python_drop_probs(MODELS.build(backbone))  # as the MIM backbones
        self.mask_at, module = resolve_module(self.backbone, mask_at)
        layout, channels, self.mask_stride, self.num_extra_tokens = self._probe(module,
                                                                                probe_size)
        self.mask_mixer = MaskTokenMixer(channels, layout, mask_mode, mask_gamma_init)
        self._mask: Optional[torch.Tensor] = None
        module.register_forward_pre_hook(self._mix_token)

    def _probe(self, module: nn.Module, size: int) -> Tuple[str, int, int, int]:
        shapes = []
        handle = module.register_forward_pre_hook(lambda _, args: shapes.append(args[0].shape))
        was_training = self.backbone.training
        self.backbone.eval()
        try:
            with torch.no_grad():
                self.backbone(torch.zeros(1, 3, size, size))
        finally:
            handle.remove()
            self.backbone.train(was_training)
        if not shapes:
            raise ValueError(f'mask_at={self.mask_at!r}: {type(self.backbone).__name__} never '
                             'calls this module in its forward pass')
        return token_grid(shapes[0], size)

    def _mix_token(self, _module: nn.Module, args: tuple) -> Optional[tuple]:
        if self._mask is None:
            return None
        x = args[0]
        if self.num_extra_tokens:
            extra, patches = x[:, :self.num_extra_tokens], x[:, self.num_extra_tokens:]
            x = torch.cat((extra, self.mask_mixer(patches, self._mask)), dim=1)
        else:
            x = self.mask_mixer(x, self._mask)
        return (x, *args[1:])

    def forward(self, x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, ...]:
        """x: (B, 3, H, W); mask: (B, H/s, W/s) with s = :attr:`mask_stride`, or None."""
        self._mask = mask
        try:
            return self.backbone(x)
        finally:
            self._mask = None
