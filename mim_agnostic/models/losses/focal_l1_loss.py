"""Element-wise (focal) L1 and the masked reconstruction loss of A²MIM / SimMIM."""
import torch
from torch import nn

from mim_agnostic.registry import MODELS

CRITERIA = ('l1', 'focal_l1', 'mse')


def focal_l1(abs_diff: torch.Tensor, alpha: float = 0.2, gamma: float = 1.0,
             activate: str = 'sigmoid', residual: bool = False) -> torch.Tensor:
    """|d| * (2 * sigmoid(alpha * |d|) - 1)^gamma (or tanh(alpha * |d|)^gamma), element-wise.

    The modulating factor is not detached: its gradient flows, as in the reference.
    ``residual=True`` adds a plain |d| term.
    """
    if activate == 'sigmoid':
        modulation = (2 * torch.sigmoid(alpha * abs_diff) - 1)**gamma
    elif activate == 'tanh':
        modulation = torch.tanh(alpha * abs_diff)**gamma
    else:
        raise ValueError(f'focal_l1: activate={activate!r} must be "sigmoid" or "tanh"')
    loss = abs_diff * modulation
    return loss + abs_diff if residual else loss


def elementwise_loss(abs_diff: torch.Tensor, criterion: str, alpha: float = 0.2,
                     gamma: float = 1.0, activate: str = 'sigmoid') -> torch.Tensor:
    """Per-element loss of a non-negative distance |d| for ``criterion`` in :data:`CRITERIA`."""
    if criterion == 'l1':
        return abs_diff
    if criterion == 'focal_l1':
        return focal_l1(abs_diff, alpha, gamma, activate)
    if criterion == 'mse':
        return abs_diff**2
    raise ValueError(f'criterion={criterion!r} is not one of {CRITERIA}')


@MODELS.register_module()
class MaskedReconstructionLoss(nn.Module):
    """Pixel loss over masked pixels: sum(w * l) / (sum_{b,h,w} w + 1e-5) / C.

    ``w = M + (1 - M) * unmask_weight`` with M the (B, 1, H, W) pixel mask, so with
    ``unmask_weight=0`` (every reference config) only masked pixels count and the result is
    the mean loss per masked (pixel, channel).

    Args:
        criterion: ``'focal_l1'`` (A²MIM CNNs), ``'l1'`` (A²MIM ViTs, SimMIM) or ``'mse'``.
        alpha, gamma, activate: focal-L1 parameters (0.2, 1, 'sigmoid' in the reference).
        unmask_weight: weight of visible pixels.
        loss_weight: multiplies the result.
    """

    def __init__(self, criterion: str = 'focal_l1', alpha: float = 0.2, gamma: float = 1.0,
                 activate: str = 'sigmoid', unmask_weight: float = 0.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if criterion not in CRITERIA:
            raise ValueError(f'MaskedReconstructionLoss: criterion={criterion!r} is not one '
                             f'of {CRITERIA}')
        self.criterion, self.alpha, self.gamma = criterion, alpha, gamma
        self.activate = activate
        self.unmask_weight = unmask_weight
        self.loss_weight = loss_weight

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                pixel_mask: torch.Tensor) -> torch.Tensor:
        """pred, target: (B, C, H, W); pixel_mask: (B, 1, H, W), 1 = masked."""
        loss = elementwise_loss((pred - target).abs(), self.criterion, self.alpha, self.gamma,
                                self.activate)
        weight = pixel_mask + (1 - pixel_mask) * self.unmask_weight
        loss = (loss * weight).sum() / (weight.sum() + 1e-5) / pred.shape[1]
        return self.loss_weight * loss
