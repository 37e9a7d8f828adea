from .atomic_checkpoint_hook import AtomicCheckpointHook
from .online_knn_hook import OnlineKNNHook
from .preemption_hook import PreemptionHook
from .reconstruction_hook import ReconstructionVisualizationHook

__all__ = ['AtomicCheckpointHook', 'OnlineKNNHook', 'PreemptionHook',
           'ReconstructionVisualizationHook']
