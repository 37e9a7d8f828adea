from .layer_decay_constructor import LayerDecayOptimWrapperConstructor
from .non_finite_guard import NonFiniteGuardOptimWrapper
from .param_table import ParamSetting, format_param_table, param_settings, param_settings_of_config
from .regex_paramwise_constructor import RegexParamwiseOptimWrapperConstructor

__all__ = ['LayerDecayOptimWrapperConstructor', 'NonFiniteGuardOptimWrapper', 'ParamSetting',
           'RegexParamwiseOptimWrapperConstructor', 'format_param_table', 'param_settings',
           'param_settings_of_config']
