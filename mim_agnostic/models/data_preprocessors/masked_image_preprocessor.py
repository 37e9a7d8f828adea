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
    is a two-view list ``[encoder_input, target]`` of (B, 3, H, W) normalised images:
    ``target`` is the clean crop and ``encoder_input`` the same crop with masked blocks
    filled according to ``mask_fill``. Without masks ``inputs`` is the normalised tensor.

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
        data = super().forward(data, training)
        images, data_samples = data['inputs'], data['data_samples']
        if (not isinstance(images, torch.Tensor) or not data_samples
                or 'mask' not in data_samples[0]):
            return data
        if self.mask_fill is None:
            data['inputs'] = [images, images]
            return data
        mask = torch.stack([sample.mask for sample in data_samples])
        pixel_mask = mask_to_pixels(mask, images.shape[-2:])
        data['inputs'] = [fill_masked_with_image_mean(images, pixel_mask), images]
        return data
