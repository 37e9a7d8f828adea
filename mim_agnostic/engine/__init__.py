from .hooks import AtomicCheckpointHook, PreemptionHook, ReconstructionVisualizationHook
from .optimizers import (LayerDecayOptimWrapperConstructor, NonFiniteGuardOptimWrapper,
                         RegexParamwiseOptimWrapperConstructor)
from .training_stopped import CheckpointSaveError, Preempted, TrainingStopped

__all__ = ['AtomicCheckpointHook', 'PreemptionHook', 'ReconstructionVisualizationHook',
           'LayerDecayOptimWrapperConstructor', 'NonFiniteGuardOptimWrapper',
           'RegexParamwiseOptimWrapperConstructor', 'CheckpointSaveError', 'Preempted',
           'TrainingStopped']
