"""Name a module inside any backbone: a stage index or a module path, and read its output.

Shared by :class:`~mim_agnostic.models.backbones.AnyMIMBackbone` (where the mask token goes)
and :mod:`mim_agnostic.analysis` (which feature maps are tapped).
"""
import math
from typing import List, Tuple, Union

import torch
from torch import nn

# where the stages of the mmpretrain backbones live, for an integer stage index
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


def block_paths(backbone: nn.Module) -> List[str]:
    """Module paths of every block, stage by stage: the children of a stage that is a
    module list (ResNet layers, ConvNeXt stages), a stage's ``blocks`` list (Swin, MixMIM),
    or the stage itself when it is one block (ViT layers, PoolFormer stages' modules)."""
    modules = dict(backbone.named_modules())
    paths = []
    for stage in stage_paths(backbone):
        module = modules[stage]
        if isinstance(getattr(module, 'blocks', None), (nn.ModuleList, nn.Sequential)):
            paths += [f'{stage}.blocks.{i}' for i in range(len(module.blocks))]
        elif isinstance(module, (nn.ModuleList, nn.Sequential)):
            paths += [f'{stage}.{i}' for i in range(len(module))]
        else:
            paths.append(stage)
    return paths


def candidate_paths(backbone: nn.Module, max_depth: int = 2) -> List[str]:
    """Module paths up to ``max_depth`` levels deep: the valid choices shown in errors."""
    return [name for name, _ in backbone.named_modules()
            if name and name.count('.') < max_depth]


def resolve_module(backbone: nn.Module, where: Union[str, int],
                   key: str = 'mask_at') -> Tuple[str, nn.Module]:
    """(path, module) named by ``where`` (a module path or a stage index); ValueError
    listing the valid choices. ``key`` names the setting in the messages."""
    if isinstance(where, bool) or not isinstance(where, (str, int)):
        raise TypeError(f'{key} must be a module path (str) or a stage index (int), '
                        f'got {where!r}')
    kind = type(backbone).__name__
    if isinstance(where, int):
        stages = stage_paths(backbone)
        if not 0 <= where < len(stages):
            raise ValueError(f'{key}={where}: {kind} has {len(stages)} stages '
                             f'{stages}; give an index in [0, {len(stages) - 1}] or one '
                             f'of the module paths {candidate_paths(backbone)}')
        where = stages[where]
    modules = dict(backbone.named_modules())
    if where not in modules or not where:
        raise ValueError(f'{key}={where!r}: {kind} has no such module; valid choices: '
                         f'stage indices 0..{len(stage_paths(backbone)) - 1} '
                         f'{stage_paths(backbone)} or the module paths '
                         f'{candidate_paths(backbone)}')
    return where, modules[where]


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
    raise ValueError(f'a feature of shape {tuple(shape)} is neither a (B, C, h, w) map '
                     f'nor a (B, L, C) sequence of square patch grid at {image_size} px')


def as_feature_map(output: torch.Tensor, image_size: int) -> torch.Tensor:
    """A module's output as a (B, C, h, w) map: maps pass through; (B, e + h*w, C) token
    sequences lose their ``e`` extra (cls) tokens and become (B, C, h, w)."""
    layout, channels, stride, extra = token_grid(output.shape, image_size)
    if layout == 'nchw':
        return output
    side = image_size // stride
    return output[:, extra:].transpose(1, 2).reshape(output.shape[0], channels, side, side)
