from .hooks import AtomicCheckpointHook, ReconstructionVisualizationHook
from .optimizers import (LayerDecayOptimWrapperConstructor, NonFiniteGuardOptimWrapper,
                         RegexParamwiseOptimWrapperConstructor)

__all__ = ['AtomicCheckpointHook', 'ReconstructionVisualizationHook',
           'LayerDecayOptimWrapperConstructor', 'NonFiniteGuardOptimWrapper',
           'RegexParamwiseOptimWrapperConstructor']
