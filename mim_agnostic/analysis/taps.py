"""Read feature maps out of any backbone at named places (stage indices or module paths)."""
from typing import Dict, List, Optional, Sequence, Union

import torch
from torch import nn

from mim_agnostic.models.utils.module_paths import (as_feature_map, block_paths,
                                                    resolve_module, stage_paths)

Tap = Union[str, int]


def parse_tap(text: str) -> Tap:
    """A tap given on the command line: ``'2'`` -> stage index 2, ``'layer3.1'`` -> path."""
    return int(text) if text.lstrip('-').isdigit() else text


def default_taps(backbone: nn.Module, per_block: bool = False) -> List[str]:
    """Every stage of ``backbone`` (or every block, for a finer depth curve)."""
    paths = block_paths(backbone) if per_block else stage_paths(backbone)
    if not paths:
        raise ValueError(f'{type(backbone).__name__} has no stage list (looked for '
                         "'stages', 'layers', 'res_layers', 'network'): name the modules to "
                         'tap with --stages')
    return paths


class FeatureTaps:
    """Forward hooks that keep the output of each tapped module as a (B, C, h, w) map.

    Token outputs (B, [extra +] h*w, C) are reshaped to maps with the extra (cls) tokens
    dropped; a module returning a tuple (Swin stages) gives its first tensor.

    Args:
        backbone: any backbone module.
        taps: stage indices or module paths, resolved as ``AnyMIMBackbone.mask_at`` is.

    Use as a context manager; after a forward pass of images of ``image_size`` px,
    :meth:`maps` returns ``{path: (B, C, h, w)}`` in tap order.
    """

    def __init__(self, backbone: nn.Module, taps: Sequence[Tap]) -> None:
        resolved = [resolve_module(backbone, tap, key='stage') for tap in taps]
        self.paths = [path for path, _ in resolved]
        if len(set(self.paths)) != len(self.paths):
            raise ValueError(f'the taps {list(taps)} name the same module twice: '
                             f'{self.paths}')
        self._modules = [module for _, module in resolved]
        self._outputs: Dict[str, torch.Tensor] = {}
        self._handles: list = []

    def __enter__(self) -> 'FeatureTaps':
        for path, module in zip(self.paths, self._modules):
            self._handles.append(module.register_forward_hook(self._keeper(path)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _keeper(self, path: str):
        def keep(_module, _args, output):
            if isinstance(output, (tuple, list)):
                output = next((o for o in output if isinstance(o, torch.Tensor)), None)
            self._outputs[path] = output
        return keep

    def maps(self, image_size: int) -> Dict[str, torch.Tensor]:
        """The tapped outputs of the last forward pass as (B, C, h, w) maps."""
        missing = [path for path in self.paths if self._outputs.get(path) is None]
        if missing:
            raise ValueError(f'the modules {missing} were not called (or returned no tensor) '
                             'in the forward pass; tap other modules')
        maps = {path: as_feature_map(self._outputs[path], image_size) for path in self.paths}
        self._outputs.clear()
        return maps


def tap_features(backbone: nn.Module, images: torch.Tensor, taps: Sequence[Tap],
                 image_size: Optional[int] = None) -> Dict[str, torch.Tensor]:
    """One forward pass of (B, 3, H, W) ``images``: ``{path: (B, C, h, w)}`` at ``taps``."""
    with FeatureTaps(backbone, taps) as hooks, torch.no_grad():
        backbone(images)
    return hooks.maps(image_size or images.shape[-1])
