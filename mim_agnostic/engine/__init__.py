from .hooks import AtomicCheckpointHook, PreemptionHook, ReconstructionVisualizationHook
from .loops import ResumableEpochBasedTrainLoop
from .optimizers import LayerDecayOptimWrapperConstructor, NonFiniteGuardOptimWrapper
from .training_stopped import CheckpointSaveError, Preempted, TrainingStopped

__all__ = ['AtomicCheckpointHook', 'PreemptionHook', 'ReconstructionVisualizationHook',
           'ResumableEpochBasedTrainLoop', 'LayerDecayOptimWrapperConstructor',
           'NonFiniteGuardOptimWrapper', 'CheckpointSaveError', 'Preempted', 'TrainingStopped']
