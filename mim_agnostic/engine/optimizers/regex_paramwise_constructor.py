"""Per-parameter lr / weight decay from regex rules, as the A²MIM reference (openmixup) sets
them with ``optimizer.paramwise_options``."""
import inspect
import logging
import re
from typing import List, Optional

from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor
from mmengine.registry import OPTIMIZERS as ROOT_OPTIMIZERS
from torch import nn

from mim_agnostic.registry import OPTIM_WRAPPER_CONSTRUCTORS

MULT_SUFFIX = '_mult'


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class RegexParamwiseOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """``paramwise_cfg=dict(rules=[(regex, options), ...])``: the reference's
    ``paramwise_options`` rule, applied to every parameter name of the model
    (``backbone.layer1.0.bn1.weight``) exactly as openmixup does:

    - a rule applies when ``re.search(regex, name)`` finds it anywhere in the name;
    - every matching rule is applied, in list order, so for each option key the last
      matching rule wins (a later rule leaves the keys it does not set alone);
    - ``<key>_mult: m`` sets ``key = m * optimizer.<key>`` (the base value, never a product of
      several rules: ``lr_mult``, ``weight_decay_mult``); any other key is set as written
      (``weight_decay=0.``);
    - parameters that match no rule, and frozen ones, keep the optimizer's base settings.

    The rules are a list, not openmixup's ``{regex: options}`` dict, because their order
    matters and mmengine writes config dicts back sorted by key (the config dumped into the
    work dir would reorder them). mmengine's ``custom_keys`` cannot express the rule: they
    match substrings, apply only the longest matching key and then skip
    ``norm_decay_mult`` / ``bias_decay_mult``, which act on module types (every norm), not on
    names.

    Example (the A²MIM ResNet-50 300-epoch recipe)::

        optim_wrapper = dict(
            constructor='RegexParamwiseOptimWrapperConstructor',
            optimizer=dict(type='AdamW', lr=1.2e-3, weight_decay=0.05),
            paramwise_cfg=dict(rules=[
                (r'(bn|ln|gn)(\\d+)?.(weight|bias)', dict(weight_decay=0.)),
                ('bias', dict(weight_decay=0.)),
                ('mask_token', dict(weight_decay=0., lr_mult=0.1)),
            ]))
    """

    def _validate_cfg(self) -> None:
        """Bad rules fail here, before the model is touched: other keys than ``rules``, a
        regex that does not compile, options that are not a flat dict, ``<key>_mult`` for a
        key the optimizer config does not set, or an option the optimizer does not take."""
        unknown = sorted(set(self.paramwise_cfg) - {'rules'})
        if unknown:
            raise ValueError(
                f'optim_wrapper.paramwise_cfg: {type(self).__name__} takes only '
                f'rules=[(regex, options), ...], got {unknown} (mmengine keys such as '
                f"custom_keys need constructor='DefaultOptimWrapperConstructor' and "
                f'paramwise_cfg=dict(_delete_=True, ...))')
        accepted = self._optimizer_arguments()
        self.rules = []
        for index, rule in enumerate(self.paramwise_cfg.get('rules', [])):
            where = f'optim_wrapper.paramwise_cfg.rules[{index}]'
            if not (isinstance(rule, (list, tuple)) and len(rule) == 2):
                raise TypeError(f'{where}: expected a (regex, options) pair, got {rule!r}')
            regex, options = rule
            where += f' {regex!r}'
            try:
                pattern = re.compile(regex)
            except (re.error, TypeError) as error:
                raise ValueError(f'{where}: not a regular expression ({error})') from None
            if not isinstance(options, dict) or any(isinstance(v, dict)
                                                    for v in options.values()):
                raise TypeError(f'{where}: expected a dict of optimizer options such as '
                                f'dict(weight_decay=0., lr_mult=0.1), got {options!r}')
            for key in options:
                target = key[:-len(MULT_SUFFIX)] if key.endswith(MULT_SUFFIX) else key
                if key != target and target not in self.optimizer_cfg:
                    raise ValueError(
                        f'{where}: {key!r} multiplies optimizer.{target}, which '
                        f'optim_wrapper.optimizer does not set (it sets '
                        f'{sorted(k for k in self.optimizer_cfg if k != "type")}; the '
                        f'reference keys are lr_mult and weight_decay_mult)')
                if accepted is not None and target not in accepted:
                    raise ValueError(f'{where}: {self.optimizer_cfg["type"]} has no option '
                                     f'{target!r} (it takes {sorted(accepted)})')
            self.rules.append((regex, pattern, dict(options)))

    def _optimizer_arguments(self) -> Optional[set]:
        """Hyperparameter names of the optimizer class (None when it cannot be resolved)."""
        optimizer_type = self.optimizer_cfg.get('type')
        if isinstance(optimizer_type, str):
            with ROOT_OPTIMIZERS.switch_scope_and_registry(None) as registry:
                optimizer_type = registry.get(optimizer_type)
        if optimizer_type is None:
            return None
        arguments = list(inspect.signature(optimizer_type).parameters)
        return set(arguments[1:])  # the first one receives the parameters

    def options_for(self, name: str) -> dict:
        """The param-group options (``lr``, ``weight_decay``, ...) the rules give ``name``;
        empty when no rule matches (the optimizer's base settings apply)."""
        options = {}
        for _, pattern, rule in self.rules:
            if pattern.search(name):
                for key, value in rule.items():
                    if key.endswith(MULT_SUFFIX):
                        key = key[:-len(MULT_SUFFIX)]
                        value = self.optimizer_cfg[key] * value
                    options[key] = value
        return options

    def add_params(self, params: List[dict], module: nn.Module, prefix: str = '',
                   is_dcn_module=None) -> None:
        """One param group per parameter, in ``named_parameters`` order (as mmengine's)."""
        matched = [0] * len(self.rules)
        for name, param in module.named_parameters(prefix=prefix):
            group = {'params': [param]}
            if param.requires_grad:
                group.update(self.options_for(name))
                for index, (_, pattern, _) in enumerate(self.rules):
                    matched[index] += bool(pattern.search(name))
            params.append(group)
        for (regex, _, _), count in zip(self.rules, matched):
            if count:
                print_log(f'paramwise rule {regex!r}: {count} parameters', 'current')
            else:
                print_log(f'paramwise rule {regex!r} matches no parameter', 'current',
                          logging.WARNING)
