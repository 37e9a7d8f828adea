"""A pixel loss the toolkit does not ship: Charbonnier (smooth L1-like) on masked pixels."""
import torch
from torch import nn

from mim_agnostic.registry import MODELS


@MODELS.register_module()
class MaskedCharbonnierLoss(nn.Module):
    """``sum(M * sqrt((pred - target)^2 + eps^2)) / (C * sum(M))`` over masked pixels.

    Same call as the toolkit's ``MaskedReconstructionLoss``, so ``A2MIMHead(loss=...)``
    takes it: pred, target (B, C, H, W), pixel_mask (B, 1, H, W) with 1 = masked.
    """

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                pixel_mask: torch.Tensor) -> torch.Tensor:
        loss = torch.sqrt((pred - target)**2 + self.eps**2)
        return (loss * pixel_mask).sum() / (pixel_mask.sum() + 1e-5) / pred.shape[1]
