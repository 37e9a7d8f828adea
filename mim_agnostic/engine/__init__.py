from .hooks import AtomicCheckpointHook, ReconstructionVisualizationHook
from .loops import ResumableEpochBasedTrainLoop
from .optimizers import LayerDecayOptimWrapperConstructor, NonFiniteGuardOptimWrapper

__all__ = ['AtomicCheckpointHook', 'ReconstructionVisualizationHook',
           'ResumableEpochBasedTrainLoop', 'LayerDecayOptimWrapperConstructor',
           'NonFiniteGuardOptimWrapper']
