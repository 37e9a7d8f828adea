from .hooks import AtomicCheckpointHook, OnlineKNNHook, ReconstructionVisualizationHook
from .optimizers import LayerDecayOptimWrapperConstructor, NonFiniteGuardOptimWrapper

__all__ = ['AtomicCheckpointHook', 'OnlineKNNHook', 'ReconstructionVisualizationHook',
           'LayerDecayOptimWrapperConstructor', 'NonFiniteGuardOptimWrapper']
