"""Relative log amplitude of the Fourier spectrum of feature maps (Park & Kim, ICLR 2022).

For a (B, C, h, w) feature map: the 2-D FFT over (h, w) of every channel of every image,
its log amplitude ``log(|F| + 1e-6)`` averaged over channels and images, read along the
diagonal from frequency 0 to pi; ``delta = value - value at 0`` is the "Delta log amplitude"
of Park & Kim's Fig. 2/8 and of the A²MIM paper's Fourier analysis. The value at the
highest frequency (pi on an even grid) is the stage's *relative high-frequency amplitude*:
the lower (more negative), the more the stage acts as a low-pass filter.
"""
from typing import Dict, Iterable, List, Sequence, Tuple

import torch
from torch import nn
from tqdm import tqdm

from .taps import FeatureTaps, Tap

EPS = 1e-6  # as Park & Kim's fourier_analysis notebook: log(|F| + 1e-6)


def mean_log_amplitude(maps: torch.Tensor) -> torch.Tensor:
    """(B, C, h, w) -> (h, w): log(|FFT2| + eps) averaged over images and channels; the
    zero frequency is at [0, 0] (not shifted)."""
    if maps.dim() != 4:
        raise ValueError(f'expected a (B, C, h, w) feature map, got shape {tuple(maps.shape)}')
    spectrum = torch.fft.fft2(maps.double(), dim=(-2, -1))
    return torch.log(spectrum.abs() + EPS).mean(dim=(0, 1))


def diagonal_profile(log_amplitude: torch.Tensor) -> Tuple[List[float], List[float]]:
    """(h, w) log amplitude -> (frequencies in units of pi, Delta log amplitude) along the
    diagonal of the spectrum, k = 0 .. min(h, w) // 2: frequency 2k/h pi (pi = Nyquist on
    an even grid), value minus the value at frequency 0."""
    height, width = log_amplitude.shape
    steps = min(height, width) // 2
    if steps == 0:
        raise ValueError(f'a {height}x{width} feature map has no frequency above 0: use '
                         'larger images or tap an earlier stage')
    rows = [round(k * (height // 2) / steps) for k in range(steps + 1)]
    cols = [round(k * (width // 2) / steps) for k in range(steps + 1)]
    values = log_amplitude[rows, cols]
    return [2 * r / height for r in rows], (values - values[0]).tolist()


def fourier_features(backbone: nn.Module, batches: Iterable[torch.Tensor], taps: Sequence[Tap],
                     num_images: int, show_progress: bool = True) -> dict:
    """Delta log amplitude of the feature maps at ``taps``, over ``num_images`` images.

    Args:
        backbone: the backbone to analyse (put in eval mode here).
        batches: (B, 3, H, W) normalised images (square crops).
        taps: stage indices or module paths (see :class:`FeatureTaps`).
        num_images: images to use (the first ones of ``batches``).
    Returns:
        ``{'taps': [path], 'depth': [(i + 1) / T], 'high_frequency': [Delta at the highest
        frequency], 'frequency': {path: [.. pi]}, 'delta_log_amplitude': {path: [..]},
        'num_images': n}``.
    """
    backbone.eval()
    sums: Dict[str, torch.Tensor] = {}
    seen = 0
    with FeatureTaps(backbone, taps) as hooks, torch.no_grad(), \
            tqdm(total=num_images, desc='fourier', unit='img', disable=not show_progress) as bar:
        for images in batches:
            images = images[:num_images - seen]
            backbone(images)
            for path, maps in hooks.maps(images.shape[-1]).items():
                sums[path] = sums.get(path, 0) + mean_log_amplitude(maps) * len(images)
            seen += len(images)
            bar.update(len(images))
            if seen >= num_images:
                break
    if seen == 0:
        raise ValueError('no images to analyse')
    paths = hooks.paths
    profiles = {path: diagonal_profile(sums[path] / seen) for path in paths}
    return dict(
        taps=paths,
        depth=[(i + 1) / len(paths) for i in range(len(paths))],
        high_frequency=[profiles[path][1][-1] for path in paths],
        frequency={path: profiles[path][0] for path in paths},
        delta_log_amplitude={path: profiles[path][1] for path in paths},
        num_images=seen)
