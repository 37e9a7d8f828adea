"""Fourier-domain losses of A²MIM: the focal frequency loss and plain FFT regression."""
import torch
from torch import nn

from mim_agnostic.registry import MODELS
from .focal_l1_loss import CRITERIA, elementwise_loss


def image_spectrum(images: torch.Tensor) -> torch.Tensor:
    """Orthonormal 2-D FFT over (H, W) per image and channel: (B, C, H, W) complex, in fp32
    (half-precision FFTs need power-of-two sizes and lose the small high frequencies)."""
    return torch.fft.fft2(images.float(), norm='ortho')


@MODELS.register_module()
class FocalFrequencyLoss(nn.Module):
    """Focal frequency loss (Jiang et al., ICCV 2021) as A²MIM configures it.

    With D = |F(pred) - F(target)| (modulus of the complex difference, per channel and
    frequency): W = sg(clamp(log(1 + D^alpha) / max, 0, 1)) and loss = mean(W * D^2).

    Args:
        alpha: exponent of the spectrum weight (1 in A²MIM).
        ave_spectrum: compare batch-averaged spectra (True in A²MIM).
        log_matrix: log(1 + .) on the weights (True in A²MIM).
        batch_matrix: normalise the weights by their global max (True in A²MIM) instead of
            the max of each (image, channel) spectrum.
        loss_weight: multiplies the result.
    """

    def __init__(self, alpha: float = 1.0, ave_spectrum: bool = True, log_matrix: bool = True,
                 batch_matrix: bool = True, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.alpha, self.ave_spectrum = alpha, ave_spectrum
        self.log_matrix, self.batch_matrix = log_matrix, batch_matrix
        self.loss_weight = loss_weight

    def spectrum_weight(self, distance: torch.Tensor) -> torch.Tensor:
        """Detached focal weights in [0, 1] from the spectral distance D (B', C, H, W)."""
        weight = distance**self.alpha
        if self.log_matrix:
            weight = torch.log1p(weight)
        if self.batch_matrix:
            weight = weight / weight.max()
        else:
            weight = weight / weight.amax(dim=(-2, -1), keepdim=True)
        weight = torch.nan_to_num(weight, nan=0.0).clamp(0.0, 1.0)
        return weight.detach()

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """pred, target: (B, C, H, W) images. Returns a scalar."""
        pred_freq, target_freq = image_spectrum(pred), image_spectrum(target)
        if self.ave_spectrum:
            pred_freq = pred_freq.mean(dim=0, keepdim=True)
            target_freq = target_freq.mean(dim=0, keepdim=True)
        diff = pred_freq - target_freq
        squared_distance = diff.real**2 + diff.imag**2
        weight = self.spectrum_weight(squared_distance.detach().sqrt())
        return self.loss_weight * (weight * squared_distance).mean()


@MODELS.register_module()
class FFTRegressionLoss(nn.Module):
    """Per-sample (no batch averaging) regression of orthonormal spectra: the mean over all
    (B, C, H, W) frequencies of ``criterion(|F(pred) - F(target)|)``. The R101 A²MIM config
    uses it with focal-L1 (alpha 0.2, gamma 1).

    Args:
        criterion: ``'l1'``, ``'focal_l1'`` or ``'mse'`` on the complex modulus.
        alpha, gamma: focal-L1 parameters. loss_weight: multiplies the result.
    """

    def __init__(self, criterion: str = 'focal_l1', alpha: float = 0.2, gamma: float = 1.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if criterion not in CRITERIA:
            raise ValueError(f'FFTRegressionLoss: criterion={criterion!r} is not one of '
                             f'{CRITERIA}')
        self.criterion, self.alpha, self.gamma = criterion, alpha, gamma
        self.loss_weight = loss_weight

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        distance = (image_spectrum(pred) - image_spectrum(target)).abs()
        return self.loss_weight * elementwise_loss(distance, self.criterion, self.alpha,
                                                   self.gamma).mean()
