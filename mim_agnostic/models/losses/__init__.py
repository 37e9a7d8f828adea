from .focal_l1_loss import MaskedReconstructionLoss, focal_l1
from .fourier_loss import FFTRegressionLoss, FocalFrequencyLoss

__all__ = ['MaskedReconstructionLoss', 'focal_l1', 'FocalFrequencyLoss', 'FFTRegressionLoss']
