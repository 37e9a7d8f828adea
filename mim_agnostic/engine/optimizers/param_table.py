"""The lr and weight decay every parameter of a config's model trains with, read from the
optimizer the config's own constructor builds (``tools/print_param_groups.py``)."""
import copy
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS, init_default_scope
from torch import nn
from torch.optim import Optimizer

from mim_agnostic.utils.runtime import adapt_to_cpu


@dataclass(frozen=True)
class ParamSetting:
    """One parameter: its name in the model, shape, the lr / weight decay of its param group
    (None: the optimizer does not hold it) and whether it is trained (``requires_grad``)."""
    name: str
    shape: Tuple[int, ...]
    lr: Optional[float]
    weight_decay: Optional[float]
    trained: bool = True


def param_settings(model: nn.Module, optimizer: Optimizer) -> List[ParamSetting]:
    """Every parameter of ``model`` (``named_parameters`` order) with the lr and weight decay
    of the ``optimizer`` param group that holds it."""
    group_of = {id(p): group for group in optimizer.param_groups for p in group['params']}
    settings = []
    for name, param in model.named_parameters():
        group = group_of.get(id(param))
        settings.append(ParamSetting(
            name, tuple(param.shape),
            None if group is None else group['lr'],
            None if group is None else group.get('weight_decay', 0.0), param.requires_grad))
    return settings


def param_settings_of_config(cfg: Config) -> Tuple[List[ParamSetting], Dict[str, float]]:
    """Build ``cfg.model`` (CPU-ready: SyncBN -> BN, AMP -> fp32 without a GPU; no weights
    loaded) and its optimizer through ``cfg.optim_wrapper`` as the Runner does.

    Returns the per-parameter settings and the optimizer's base ``lr`` / ``weight_decay``.
    """
    cfg = adapt_to_cpu(copy.deepcopy(cfg))
    init_default_scope(cfg.get('default_scope', 'mim_agnostic'))
    model = MODELS.build(cfg.model)
    optimizer = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
    base = dict(lr=optimizer.defaults['lr'],
                weight_decay=optimizer.defaults.get('weight_decay', 0.0))
    return param_settings(model, optimizer), base


def name_pattern(name: str) -> str:
    """Parameter name with every number replaced by ``*`` (``layer*.*.bn*.weight``)."""
    return re.sub(r'\d+', '*', name)


def _multiple(value: Optional[float], base: float) -> str:
    if value is None:
        return '-'
    if base == 0:
        return '1' if value == 0 else 'inf'
    return f'{value / base:.4g}'


def _value(value: Optional[float]) -> str:
    return 'not optimized' if value is None else f'{value:.4g}'


def format_param_table(settings: List[ParamSetting], base: Dict[str, float],
                       all_params: bool = False) -> str:
    """The settings as text: parameters grouped by identical (lr, weight decay), frozen ones
    apart, each group listing its name patterns with tensor ranks and counts; ``all_params``:
    one row per parameter (name, shape, lr, weight decay, frozen) instead."""
    base_lr, base_wd = base['lr'], base['weight_decay']
    numel = sum(math.prod(s.shape) for s in settings)
    lines = [f'base lr {base_lr:.4g}, base weight decay {base_wd:.4g}; {len(settings)} '
             f'parameter tensors, {numel / 1e6:.2f} M elements']
    if all_params:
        width = max(len(s.name) for s in settings)
        lines.append(f'{"name":<{width}}  {"shape":<20} {"lr":>10} {"x base":>7} '
                     f'{"wd":>10} {"x base":>7}')
        for s in settings:
            lines.append(f'{s.name:<{width}}  {str(list(s.shape)):<20} {_value(s.lr):>10} '
                         f'{_multiple(s.lr, base_lr):>7} {_value(s.weight_decay):>10} '
                         f'{_multiple(s.weight_decay, base_wd):>7}'
                         + ('' if s.trained else '  frozen'))
        return '\n'.join(lines)
    groups = defaultdict(list)
    for s in settings:
        groups[(s.trained, s.lr, s.weight_decay)].append(s)
    order = sorted(groups, key=lambda k: (not k[0], k[1] is None, -(k[1] or 0), -(k[2] or 0)))
    for index, (trained, lr, wd) in enumerate(order, 1):
        members = groups[(trained, lr, wd)]
        lines.append('')
        lines.append(f'[{index}] {"" if trained else "frozen (requires_grad=False), "}'
                     f'lr {_value(lr)} (x{_multiple(lr, base_lr)}), weight decay '
                     f'{_value(wd)} (x{_multiple(wd, base_wd)}): {len(members)} tensors, '
                     f'{sum(math.prod(s.shape) for s in members):,} elements')
        patterns = defaultdict(int)
        for s in members:
            patterns[(name_pattern(s.name), len(s.shape))] += 1
        width = max(len(pattern) for pattern, _ in patterns)
        for (pattern, ndim), count in patterns.items():
            lines.append(f'    {pattern:<{width}}  {ndim}-D x{count}')
    return '\n'.join(lines)
