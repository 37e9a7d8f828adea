from .hooks import (AtomicCheckpointHook, OnlineKNNHook, PreemptionHook,
                    ReconstructionVisualizationHook)
from .loops import ResumableEpochBasedTrainLoop
from .optimizers import (LayerDecayOptimWrapperConstructor, NonFiniteGuardOptimWrapper,
                         RegexParamwiseOptimWrapperConstructor)
from .training_stopped import CheckpointSaveError, Preempted, TrainingStopped

__all__ = ['AtomicCheckpointHook', 'OnlineKNNHook', 'PreemptionHook',
           'ReconstructionVisualizationHook', 'ResumableEpochBasedTrainLoop',
           'LayerDecayOptimWrapperConstructor', 'NonFiniteGuardOptimWrapper',
           'RegexParamwiseOptimWrapperConstructor', 'CheckpointSaveError', 'Preempted',
           'TrainingStopped']
