"""Normalise on the device and fill masked blocks there (not in the loader workers)."""
from typing import Optional

import torch
from mmpretrain.models.utils.data_preprocessor import SelfSupDataPreprocessor

from mim_agnostic.registry import MODELS
from ..utils import fill_masked_with_image_mean, mask_to_pixels


@MODELS.register_module()
class MaskedImageDataPreprocessor(SelfSupDataPreprocessor):
    """:class:`SelfSupDataPreprocessor` + the pixel fill of masked blocks.

    When the batch carries masks (``DataSample.mask``, (h, w) each) the output ``inputs``
    is ``[encoder_input, target, mask]``: ``target`` the clean crop and ``encoder_input``
    the same crop with masked blocks filled according to ``mask_fill`` (both (B, 3, H, W),
    normalised), ``mask`` the (B, h, w) batch of token masks on the device. The data samples
    are passed on as they came: the masks go to the device in one copy for the batch
    instead of one per sample (at batch 128 the per-sample way cost ~5 ms per step on an
    H200). Without masks ``inputs`` is the normalised tensor.

    Args:
        mask_fill: ``'mean'`` paints masked blocks with each image's per-channel mean
            (A²MIM); ``None`` leaves the pixels as they are (SimMIM: masking happens
            only through the mask token), and then both views are the same tensor.
        **kwargs: :class:`SelfSupDataPreprocessor` arguments (mean, std, to_rgb, ...).
    """

    FILLS = ('mean', None)

    def __init__(self, mask_fill: Optional[str] = 'mean', **kwargs) -> None:
        super().__init__(**kwargs)
        if mask_fill not in self.FILLS:
            raise ValueError(f'MaskedImageDataPreprocessor: mask_fill={mask_fill!r} is not '
                             f'one of {self.FILLS}')
        self.mask_fill = mask_fill

    def forward(self, data: dict, training: bool = False) -> dict:
        samples = data.get('data_samples')
        if not samples or 'mask' not in samples[0] or \
                not isinstance(data.get('inputs'), torch.Tensor):
            return super().forward(data, training)
        images = super().forward(dict(inputs=data['inputs'], data_samples=None),
                                 training)['inputs']
        mask = torch.stack([sample.mask for sample in samples]).to(images.device,
                                                                   non_blocking=True)
        if self.mask_fill is None:
            encoder_input = images
        else:
            encoder_input = fill_masked_with_image_mean(
                images, mask_to_pixels(mask, images.shape[-2:]))
        return dict(inputs=[encoder_input, images, mask], data_samples=samples)
