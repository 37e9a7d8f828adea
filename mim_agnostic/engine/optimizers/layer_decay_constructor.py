"""Layer-wise lr decay for any model whose backbone reports its layer depth (mmpretrain's
ResNet, ViT/BEiTViT, ConvNeXt, Swin, ...), detectors and segmentors included."""
from typing import List, Optional

from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn

from mim_agnostic.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """:class:`DefaultOptimWrapperConstructor` (``norm_decay_mult``, ``custom_keys``, ...)
    plus ``layer_decay_rate`` in ``paramwise_cfg``: a backbone parameter at depth ``d`` of
    ``D`` (``model.backbone.get_layer_depth(name, 'backbone.')``) gets
    ``lr * layer_decay_rate ** (D - 1 - d)``; necks and heads keep the full lr.

    mmpretrain's constructor needs ``get_layer_depth`` on the model itself, which detectors
    and segmentors do not have; mmdet's and mmseg's know only some backbone names.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None) -> None:
        paramwise_cfg = dict(paramwise_cfg or {})
        self.layer_decay_rate = paramwise_cfg.pop('layer_decay_rate', 1.0)
        if not 0 < self.layer_decay_rate <= 1:
            raise ValueError(f'paramwise_cfg.layer_decay_rate={self.layer_decay_rate} must be '
                             'in (0, 1]')
        super().__init__(optim_wrapper_cfg, paramwise_cfg)

    def add_params(self, params: List[dict], module: nn.Module, prefix: str = '',
                   is_dcn_module=None) -> None:
        super().add_params(params, module, prefix, is_dcn_module)
        if prefix or self.layer_decay_rate == 1:  # decay once, from the top-level call
            return
        backbone = getattr(module, 'backbone', None)
        if backbone is None or not hasattr(backbone, 'get_layer_depth'):
            raise TypeError(f'layer_decay_rate needs model.backbone.get_layer_depth; '
                            f'{type(backbone).__name__} has none')
        names = {id(p): name for name, p in module.named_parameters()}
        for group in params:
            name = names[id(group['params'][0])]
            if name.startswith('backbone.'):
                depth, num_layers = backbone.get_layer_depth(name, 'backbone.')
                group['lr'] = group.get('lr', self.base_lr) * \
                    self.layer_decay_rate**(num_layers - 1 - depth)
