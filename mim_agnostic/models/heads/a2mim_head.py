"""A²MIM loss head: masked (focal) L1 in pixel space + Fourier-domain loss."""
from typing import Dict, Optional

import torch
from mmengine.model import BaseModule

from mim_agnostic.registry import MODELS
from ..utils import mask_to_pixels

REPLACE_MODES = ('mixed', 'target', 'prediction', 'mean', None)


def replace_visible_pixels(pred: torch.Tensor, target: torch.Tensor, pixel_mask: torch.Tensor,
                           mode: Optional[str], unmask_weight: float) -> torch.Tensor:
    """The prediction the Fourier loss sees: ``M_f * pred + (1 - M_f) * R`` with
    ``M_f = M + (1 - M) * unmask_weight`` and R by ``mode``: ``'mixed'`` = 0.5 * sg(pred) +
    0.5 * target, ``'target'``, ``'prediction'`` = sg(pred), ``'mean'`` = per-image,
    per-channel mean of target. ``None`` or ``unmask_weight >= 1`` returns ``pred``."""
    if mode is None or unmask_weight >= 1:
        return pred
    if mode == 'mixed':
        replacement = 0.5 * pred.detach() + 0.5 * target
    elif mode == 'target':
        replacement = target
    elif mode == 'prediction':
        replacement = pred.detach()
    elif mode == 'mean':
        replacement = target.mean(dim=(2, 3), keepdim=True).expand_as(target)
    else:
        raise ValueError(f'fft_unmask_replace={mode!r} is not one of {REPLACE_MODES}')
    blend = pixel_mask + (1 - pixel_mask) * unmask_weight
    return blend * pred + (1 - blend) * replacement


@MODELS.register_module()
class A2MIMHead(BaseModule):
    """``loss = loss_rec + fft_weight * loss_fft``, both terms logged separately.

    Args:
        loss: pixel loss cfg, e.g. ``dict(type='MaskedReconstructionLoss',
            criterion='focal_l1')``.
        fft_loss: Fourier loss cfg (``FocalFrequencyLoss`` or ``FFTRegressionLoss``);
            required when ``fft_weight > 0``.
        fft_weight: lambda_f (0.5 for R50, 0.1 for ViTs and R101, 0 = no Fourier term).
        fft_unmask_weight: u_f, gradient share of visible pixels in the Fourier term.
        fft_unmask_replace: what replaces visible prediction pixels before the FFT
            (see :func:`replace_visible_pixels`).
    """

    def __init__(self, loss: dict, fft_loss: Optional[dict] = None, fft_weight: float = 0.0,
                 fft_unmask_weight: float = 0.0, fft_unmask_replace: Optional[str] = 'mixed',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if fft_unmask_replace not in REPLACE_MODES:
            raise ValueError(f'A2MIMHead: fft_unmask_replace={fft_unmask_replace!r} is not '
                             f'one of {REPLACE_MODES}')
        if fft_weight < 0:
            raise ValueError(f'A2MIMHead: fft_weight={fft_weight} must be >= 0')
        if fft_weight > 0 and fft_loss is None:
            raise ValueError(f'A2MIMHead: fft_weight={fft_weight} needs an fft_loss config')
        self.loss_module = MODELS.build(loss)
        self.fft_loss = MODELS.build(fft_loss) if fft_weight > 0 else None
        self.fft_weight = fft_weight
        self.fft_unmask_weight = fft_unmask_weight
        self.fft_unmask_replace = fft_unmask_replace

    def loss(self, pred: torch.Tensor, target: torch.Tensor,
             mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """pred, target: (B, 3, H, W) normalised images; mask: (B, h, w) token mask."""
        if pred.shape != target.shape:
            raise ValueError(f'A2MIMHead: prediction {tuple(pred.shape)} and target '
                             f'{tuple(target.shape)} differ: the decoder encoder_stride must '
                             'equal the backbone output stride')
        pixel_mask = mask_to_pixels(mask, target.shape[-2:]).to(pred.dtype)
        losses = dict(loss_rec=self.loss_module(pred, target, pixel_mask))
        if self.fft_loss is not None:
            fft_input = replace_visible_pixels(pred, target, pixel_mask,
                                               self.fft_unmask_replace, self.fft_unmask_weight)
            losses['loss_fft'] = self.fft_weight * self.fft_loss(fft_input, target)
        return losses
