from .atomic_checkpoint_hook import AtomicCheckpointHook
from .reconstruction_hook import ReconstructionVisualizationHook

__all__ = ['AtomicCheckpointHook', 'ReconstructionVisualizationHook']
