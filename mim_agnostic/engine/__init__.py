from .hooks import ReconstructionVisualizationHook

__all__ = ['ReconstructionVisualizationHook']
