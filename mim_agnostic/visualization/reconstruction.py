"""Turn normalised MIM tensors into pictures people can look at."""
from typing import List, Sequence

import numpy as np
import torch
from torch import nn

from mim_agnostic.models.utils import mask_to_pixels


def to_display_image(image: torch.Tensor, mean: Sequence[float],
                     std: Sequence[float]) -> np.ndarray:
    """(3, H, W) normalised RGB tensor -> (H, W, 3) uint8 RGB in display colours."""
    mean_t = torch.as_tensor(mean, dtype=torch.float32).view(-1, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32).view(-1, 1, 1)
    pixels = image.detach().float().cpu() * std_t + mean_t
    return pixels.clamp(0, 255).round().byte().permute(1, 2, 0).numpy()


def reconstruction_grid(masked_input: torch.Tensor, prediction: torch.Tensor,
                        target: torch.Tensor, pixel_mask: torch.Tensor, mean: Sequence[float],
                        std: Sequence[float], gap: int = 4) -> np.ndarray:
    """One row per image: masked input | reconstruction | original, as (rows*H, 3*W) RGB.

    The reconstruction shows the prediction inside the masked blocks and the original
    elsewhere (visible pixels carry no loss, so the raw prediction there means nothing).

    Args:
        masked_input, prediction, target: (B, 3, H, W) normalised images.
        pixel_mask: (B, 1, H, W), 1 = masked.
        mean, std: the data preprocessor's normalisation, in 0..255 RGB.
    """
    pasted = torch.where(pixel_mask.bool(), prediction.float(), target.float())
    rows = []
    for masked, recon, original in zip(masked_input, pasted, target):
        tiles = [to_display_image(t, mean, std) for t in (masked, recon, original)]
        height = tiles[0].shape[0]
        spacer = np.full((height, gap, 3), 255, np.uint8)
        rows.append(np.concatenate([tiles[0], spacer, tiles[1], spacer, tiles[2]], axis=1))
        rows.append(np.full((gap, rows[-1].shape[1], 3), 255, np.uint8))
    return np.concatenate(rows[:-1], axis=0)


def _normalisation(preprocessor: nn.Module, name: str, default: float) -> List[float]:
    values = getattr(preprocessor, name, None)
    return [default] * 3 if values is None else values.flatten().tolist()


def render_reconstructions(model: nn.Module, data_batch: dict) -> np.ndarray:
    """Reconstruction grid (see :func:`reconstruction_grid`) of a collated, not yet
    preprocessed batch, for an MIM algorithm with a ``'predict'`` mode (e.g. A2MIM). The
    model runs in eval mode without gradients and is put back in its previous mode."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            data = model.data_preprocessor(data_batch, training=False)
            samples = model(**data, mode='predict')
    finally:
        model.train(was_training)
    _, target, mask = model.unpack(data['inputs'], samples)
    prediction = torch.stack([sample.pred_pixel for sample in samples])
    masked = torch.stack([sample.masked_input for sample in samples])
    preprocessor = model.data_preprocessor
    return reconstruction_grid(masked, prediction, target,
                               mask_to_pixels(mask, target.shape[-2:]),
                               _normalisation(preprocessor, 'mean', 0.0),
                               _normalisation(preprocessor, 'std', 1.0))
