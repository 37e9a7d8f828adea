from .hooks import AtomicCheckpointHook, ReconstructionVisualizationHook
from .optimizers import LayerDecayOptimWrapperConstructor, NonFiniteGuardOptimWrapper

__all__ = ['AtomicCheckpointHook', 'ReconstructionVisualizationHook',
           'LayerDecayOptimWrapperConstructor', 'NonFiniteGuardOptimWrapper']
