"""SymMIM: symmetric checkerboard masks + reconstruction + MoCo-v3 InfoNCE to a momentum encoder.

One training step (ViT-B/16 at 224; ResNet-50 the same with the token at the layer4 input):
    online branch: backbone(x, M1) with M1 the patch checkerboard (98 of 196 tokens masked)
        -> (B, 768, 14, 14) -> decoder -> reconstruction, masked L1      loss_rec
        -> GAP -> projector -> predictor -> q                           (B, 256)
    momentum branch (EMA of backbone + projector, no gradient): backbone(x, M2) with M2 the
        2x2-patch checkerboard -> GAP -> projector -> k                 (B, 256)
    loss_con = contrast_weight * 2 tau * CE(q k^T / tau, diagonal)     (MoCo v3 InfoNCE,
        negatives = the other images of the global batch)
"""
from typing import Dict, List, Optional

import torch
from mmpretrain.structures import DataSample
from torch import nn

from mim_agnostic.registry import MODELS
from ..utils import MomentumEncoder, fill_masked_with_image_mean, mask_to_pixels
from .a2mim import A2MIM, Inputs


@MODELS.register_module()
class SymMIM(A2MIM):
    """Masked image modeling with symmetric masks and a momentum-contrastive term.

    The reconstruction path is :class:`A2MIM`'s (any mask-token backbone, decoder and head);
    SymMIM adds a projector on the online features, a MoCo-v3 head (predictor + InfoNCE) and
    an EMA copy of backbone + projector that encodes the same crop under the coarse mask.

    Args:
        backbone, neck, head: as :class:`A2MIM` (head = the reconstruction loss).
        projector: neck cfg mapping the backbone's last map to the embedding
            (mmpretrain ``NonLinearNeck`` with ``with_avg_pool=True``).
        contrast_head: ``MoCoV3Head`` cfg (predictor, InfoNCE loss with weight 2 tau,
            temperature tau).
        momentum: EMA update rate at step 0, ``theta_k <- (1 - m) theta_k + m theta_q``;
            0.01 = MoCo v3's momentum 0.99.
        end_momentum: rate at the last iteration (cosine schedule; 0 = momentum 1).
        contrast_weight: weight of the InfoNCE term against the reconstruction loss.
    """

    def __init__(self, backbone: dict, neck: dict, head: dict, projector: dict,
                 contrast_head: dict, momentum: float = 0.01, end_momentum: float = 0.0,
                 contrast_weight: float = 1.0, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(backbone=backbone, neck=neck, head=head,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg, **kwargs)
        if not 0 <= end_momentum <= 1 or not 0 <= momentum <= 1:
            raise ValueError(f'SymMIM: momentum={momentum} and end_momentum={end_momentum} '
                             'must be in [0, 1]')
        if contrast_weight < 0:
            raise ValueError(f'SymMIM: contrast_weight={contrast_weight} must be >= 0')
        self.projector = MODELS.build(projector)
        self.contrast_head = MODELS.build(contrast_head)
        self.contrast_weight = contrast_weight
        # a copy of (backbone, projector); its first update copies the online weights
        self.momentum_encoder = MomentumEncoder(nn.Sequential(self.backbone, self.projector),
                                                momentum=momentum, end_momentum=end_momentum)

    @staticmethod
    def stack_momentum_masks(data_samples: List[DataSample],
                             device: torch.device) -> torch.Tensor:
        if 'momentum_mask' not in data_samples[0]:
            raise ValueError('SymMIM needs a momentum_mask in every data sample: use '
                             'CheckerboardMaskGenerator and '
                             "PackInputs(algorithm_keys=('momentum_mask',))")
        return torch.stack([torch.as_tensor(sample.momentum_mask)
                            for sample in data_samples]).to(device, non_blocking=True)

    def momentum_input(self, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The clean crop, mean-filled under ``mask`` when the preprocessor fills (A²MIM)."""
        if getattr(self.data_preprocessor, 'mask_fill', None) == 'mean':
            return fill_masked_with_image_mean(target, mask_to_pixels(mask, target.shape[-2:]))
        return target

    def loss(self, inputs: Inputs, data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        encoder_input, target, mask = self.unpack(inputs, data_samples)
        momentum_mask = self.stack_momentum_masks(data_samples, target.device)

        features = self.backbone(encoder_input, mask)
        losses = self.head.loss(self.neck(features), target, mask)
        online = self.projector(features)[0]

        with torch.no_grad():
            self.momentum_encoder.update_parameters(
                nn.Sequential(self.backbone, self.projector))
            backbone, projector = self.momentum_encoder.module
            momentum = projector(backbone(self.momentum_input(target, momentum_mask),
                                          momentum_mask))[0]
        losses['loss_con'] = self.contrast_weight * self.contrast_head.loss(online, momentum)
        return losses
