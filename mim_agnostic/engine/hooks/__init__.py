from .atomic_checkpoint_hook import AtomicCheckpointHook
from .preemption_hook import PreemptionHook
from .reconstruction_hook import ReconstructionVisualizationHook

__all__ = ['AtomicCheckpointHook', 'PreemptionHook', 'ReconstructionVisualizationHook']
