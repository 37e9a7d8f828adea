from .atomic_checkpoint_hook import AtomicCheckpointHook
from .online_knn_hook import OnlineKNNHook
from .reconstruction_hook import ReconstructionVisualizationHook

__all__ = ['AtomicCheckpointHook', 'OnlineKNNHook', 'ReconstructionVisualizationHook']
