from .hooks import ReconstructionVisualizationHook
from .optimizers import LayerDecayOptimWrapperConstructor

__all__ = ['ReconstructionVisualizationHook', 'LayerDecayOptimWrapperConstructor']
