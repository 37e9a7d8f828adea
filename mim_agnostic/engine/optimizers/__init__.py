from .layer_decay_constructor import LayerDecayOptimWrapperConstructor
from .non_finite_guard import NonFiniteGuardOptimWrapper

__all__ = ['LayerDecayOptimWrapperConstructor', 'NonFiniteGuardOptimWrapper']
