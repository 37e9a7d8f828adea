"""Shape helpers shared by every MIM component that handles a token mask."""
from typing import Tuple

import torch
import torch.nn.functional as F


def mask_to_pixels(mask: torch.Tensor, image_size: Tuple[int, int]) -> torch.Tensor:
    """Token mask (B, h, w) -> pixel mask (B, 1, H, W), same dtype.

    Integer factors H/h, W/w repeat each token (exact, as the reference); a token grid finer
    than the image falls back to nearest interpolation.
    """
    if mask.dim() != 3:
        raise ValueError(f'mask must be (B, h, w), got shape {tuple(mask.shape)}')
    (height, width), (mask_h, mask_w) = image_size, mask.shape[-2:]
    if height % mask_h == 0 and width % mask_w == 0 and height >= mask_h and width >= mask_w:
        pixels = mask.repeat_interleave(height // mask_h, 1).repeat_interleave(width // mask_w, 2)
    elif height < mask_h or width < mask_w:
        pixels = F.interpolate(mask[:, None].float(), size=(height, width)).to(mask.dtype)[:, 0]
    else:
        raise ValueError(f'a {mask_h}x{mask_w} token mask does not tile a {height}x{width} '
                         'image: the image size must be a multiple of the mask size')
    return pixels.unsqueeze(1)


def fill_masked_with_image_mean(images: torch.Tensor, pixel_mask: torch.Tensor) -> torch.Tensor:
    """Paint masked pixels with each image's own per-channel mean (A²MIM "rgb_m").

    Args:
        images: (B, C, H, W) normalised images; the mean runs over all H*W pixels, masked
            ones included, as in the reference.
        pixel_mask: (B, 1, H, W), 1 = masked.
    Returns:
        A new (B, C, H, W) tensor; ``images`` is left untouched (it is the target).
    """
    mean = images.mean(dim=(2, 3), keepdim=True)
    return torch.where(pixel_mask.bool(), mean.expand_as(images), images)
