"""A²MIM: mean-filled input, mask token in a middle stage, light decoder, pixel+Fourier loss.

One training step (shapes for a 224 px crop and a ResNet-50 with the token at stage 4):
    data preprocessor: normalise; encoder_input = crop with masked 32 px blocks painted in
        the crop's mean colour; target = clean crop                     (B, 3, 224, 224) x2
        and the batch of token masks                                    (B, 14, 14)
    backbone(encoder_input, mask): token added at masked positions of the layer4 input
        (mask (B, 14, 14)); last feature map                             (B, 2048, 7, 7)
    neck: 1x1 conv to 32*32*3 channels + PixelShuffle(32)               (B, 3, 224, 224)
    head: masked focal-L1 + lambda_f * focal frequency loss        dict(loss_rec, loss_fft)
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.structures import DataSample

from mim_agnostic.registry import MODELS

Inputs = Union[torch.Tensor, Sequence[torch.Tensor]]


@MODELS.register_module()
class A2MIM(BaseSelfSupervisor):
    """Architecture-agnostic masked image modeling on mmpretrain's ``BaseSelfSupervisor``.

    Works with any backbone whose ``forward(x, mask)`` adds a mask token somewhere inside
    (:class:`MIMResNet`, :class:`MIMViT`, :class:`MIMConvNeXt`, ...), a neck that maps its
    last feature map back to pixels and a head whose ``loss(pred, target, mask)`` returns a
    dict of losses. With ``mask_mode='replace'`` on the backbone, no pixel fill and an L1
    head this is SimMIM.

    Modes: ``'loss'`` -> dict of losses; ``'tensor'`` -> plain backbone features (no mask);
    ``'predict'`` -> data samples carrying the reconstruction (see :meth:`predict`).
    """

    def __init__(self, backbone: dict, neck: dict, head: dict,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='MaskedImageDataPreprocessor')
        super().__init__(backbone=backbone, neck=neck, head=head,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg, **kwargs)

    @staticmethod
    def stack_masks(data_samples: List[DataSample]) -> torch.Tensor:
        if not data_samples or 'mask' not in data_samples[0]:
            raise ValueError('A2MIM needs a token mask in every data sample: put a mask '
                             'generator (e.g. BlockMaskGenerator) before PackInputs')
        return torch.stack([sample.mask for sample in data_samples])

    @classmethod
    def unpack(cls, inputs: Inputs, data_samples: Optional[List[DataSample]] = None
               ) -> Tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]:
        """(encoder_input, target, mask) from :class:`MaskedImageDataPreprocessor`'s
        ``[encoder_input, target, mask]``; from a plain tensor (or two views) the masks come
        from the data samples, or are None without samples."""
        if isinstance(inputs, torch.Tensor):
            inputs = [inputs, inputs]
        if len(inputs) == 3:
            return inputs[0], inputs[1], inputs[2]
        if len(inputs) != 2:
            raise ValueError(f'A2MIM expects [encoder_input, target, mask] inputs, got '
                             f'{len(inputs)} items')
        mask = cls.stack_masks(data_samples).to(inputs[0].device) if data_samples else None
        return inputs[0], inputs[1], mask

    def extract_feat(self, inputs: Inputs) -> Tuple[torch.Tensor, ...]:
        """Plain backbone features of the clean images, no mask token."""
        return self.backbone(self.unpack(inputs)[1], mask=None)

    def reconstruct(self, encoder_input: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) prediction in normalised pixel space."""
        return self.neck(self.backbone(encoder_input, mask))

    def loss(self, inputs: Inputs, data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        encoder_input, target, mask = self.unpack(inputs, data_samples)
        return self.head.loss(self.reconstruct(encoder_input, mask), target, mask)

    def predict(self, inputs: Inputs, data_samples: List[DataSample]) -> List[DataSample]:
        """Each sample gets ``pred_pixel`` (3, H, W) and ``masked_input`` (3, H, W), both
        normalised; its ``mask`` stays the token mask."""
        encoder_input, _, mask = self.unpack(inputs, data_samples)
        pred = self.reconstruct(encoder_input, mask)
        for sample, image, masked in zip(data_samples, pred, encoder_input):
            sample.set_field(image, 'pred_pixel')
            sample.set_field(masked, 'masked_input')
        return data_samples

    def forward(self, inputs: Inputs, data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)
