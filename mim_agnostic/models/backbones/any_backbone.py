"""A²MIM on any registered backbone: the mask token goes into the input of a named module.

No new backbone code: :class:`AnyMIMBackbone` builds the backbone from its config, finds the
module named by ``mask_at`` (a module path such as ``'stages.2'`` or a stage index), probes
one forward pass to learn that module's input layout, channels and stride, and mixes the
token into the module's input through a forward pre-hook whenever a mask is given.
"""
import math
from typing import List, Optional, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from mim_agnostic.registry import MODELS
from ..utils import use_python_drop_probs
from .mask_in_middle import MaskTokenMixer

# where the stages of the mmpretrain backbones live, for ``mask_at=<int>``
STAGE_CONTAINERS = ('stages', 'layers', 'res_layers', 'network')
MAX_EXTRA_TOKENS = 8  # cls / distillation / register tokens ahead of the patch tokens


def stage_paths(backbone: nn.Module) -> List[str]:
    """Module paths of the backbone's stages, in order (empty if it has no stage list)."""
    for name in STAGE_CONTAINERS:
        container = getattr(backbone, name, None)
        if isinstance(container, (list, tuple)) and container and \
                all(isinstance(n, str) for n in container):  # ResNet's res_layers names
            return list(container)
        if isinstance(container, (nn.ModuleList, nn.Sequential)):
            return [f'{name}.{i}' for i in range(len(container))]
    return []


def candidate_paths(backbone: nn.Module, max_depth: int = 2) -> List[str]:
    """Module paths up to ``max_depth`` levels deep: the valid choices shown in errors."""
    return [name for name, _ in backbone.named_modules()
            if name and name.count('.') < max_depth]


def resolve_module(backbone: nn.Module, mask_at: Union[str, int]) -> Tuple[str, nn.Module]:
    """(path, module) named by ``mask_at``; ValueError listing the valid choices."""
    if isinstance(mask_at, bool) or not isinstance(mask_at, (str, int)):
        raise TypeError(f'mask_at must be a module path (str) or a stage index (int), '
                        f'got {mask_at!r}')
    kind = type(backbone).__name__
    if isinstance(mask_at, int):
        stages = stage_paths(backbone)
        if not 0 <= mask_at < len(stages):
            raise ValueError(f'mask_at={mask_at}: {kind} has {len(stages)} stages '
                             f'{stages}; give an index in [0, {len(stages) - 1}] or one '
                             f'of the module paths {candidate_paths(backbone)}')
        mask_at = stages[mask_at]
    modules = dict(backbone.named_modules())
    if mask_at not in modules or not mask_at:
        raise ValueError(f'mask_at={mask_at!r}: {kind} has no such module; valid choices: '
                         f'stage indices 0..{len(stage_paths(backbone)) - 1} '
                         f'{stage_paths(backbone)} or the module paths '
                         f'{candidate_paths(backbone)}')
    return mask_at, modules[mask_at]


def token_grid(shape: torch.Size, image_size: int) -> Tuple[str, int, int, int]:
    """(layout, channels, stride, extra tokens) of a feature map fed by an image of
    ``image_size`` px: (B, C, h, w) -> 'nchw'; (B, e + h*w, C) with square h = w -> 'nlc'."""
    if len(shape) == 4:
        if image_size % shape[-1]:
            raise ValueError(f'a {tuple(shape)} map is not a whole-stride grid of a '
                             f'{image_size} px image')
        return 'nchw', shape[1], image_size // shape[-1], 0
    if len(shape) == 3:
        for extra in range(MAX_EXTRA_TOKENS + 1):
            side = math.isqrt(shape[1] - extra)
            if side * side == shape[1] - extra and side and image_size % side == 0:
                return 'nlc', shape[2], image_size // side, extra
    raise ValueError(f'the module input of shape {tuple(shape)} is neither a (B, C, h, w) map '
                     f'nor a (B, L, C) sequence of square patch grid at {image_size} px')


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
