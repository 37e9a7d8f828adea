from .hooks import ReconstructionVisualizationHook
from .optimizers import LayerDecayOptimWrapperConstructor, NonFiniteGuardOptimWrapper

__all__ = ['ReconstructionVisualizationHook', 'LayerDecayOptimWrapperConstructor',
           'NonFiniteGuardOptimWrapper']
