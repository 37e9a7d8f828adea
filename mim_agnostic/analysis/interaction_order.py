"""Multi-order interactions J(m) of a classifier (Deng et al., ICLR 2022, "Discovering and
explaining the representation bottleneck of DNNs"; the A²MIM paper's analysis).

An image is cut into a G x G grid of n = G*G patches (the players). For a pair (i, j) and a
context S of m other patches, the interaction of order m is

    I^(m)(i, j) = E_{S subset N\\{i,j}, |S|=m} [ v(S+i+j) - v(S+i) - v(S+j) + v(S) ],

where v(T) is the classifier's score of the true class on the image in which only the
patches in T are kept and every other patch is set to the baseline: the image's own
per-channel mean (the same colour in pixel and in normalised space, normalisation being
affine per channel). The strength of order m is

    J(m) = E_x E_(i,j) |I^(m)(i, j)|  /  mean over the evaluated orders m' of the same,

as the authors' code normalises it. Orders are m = floor(r * (n - 2)) for ratios r in [0, 1].
"""
import math
from functools import partial
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import torch
from tqdm import tqdm

from mim_agnostic.models.utils import fill_masked_with_image_mean, mask_to_pixels

SCORES = ('log_odds', 'logit')
DEFAULT_RATIOS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)


def order_of(ratio: float, num_patches: int) -> int:
    """m = floor(r * (n - 2)), as the reference code (robust to 0.29 * 100 = 28.999..)."""
    return math.floor(ratio * (num_patches - 2) + 1e-9)


def check_request(grid: int, image_size: Optional[Tuple[int, int]], ratios: Sequence[float],
                  num_pairs: int, num_contexts: int) -> List[int]:
    """The orders m of ``ratios``; ValueError for a request that cannot be met (checked
    before any forward pass; ``image_size`` None skips the grid-tiles-the-image check)."""
    if grid < 2:
        raise ValueError(f'--grid {grid}: need at least a 2x2 grid of patches')
    height, width = image_size or (grid, grid)  # None: checked again once the size is known
    if height % grid or width % grid:
        fitting = [g for g in (2, 4, 7, 8, 14, 16) if height % g == 0 and width % g == 0]
        raise ValueError(f'--grid {grid} does not tile the {height}x{width} input: the image '
                         f'size must be a multiple of the grid (e.g. --grid {fitting})')
    num_patches = grid * grid
    all_pairs = num_patches * (num_patches - 1) // 2
    if not 1 <= num_pairs <= all_pairs:
        raise ValueError(f'--num-pairs {num_pairs}: a {grid}x{grid} grid has n = {num_patches} '
                         f'patches and only n(n-1)/2 = {all_pairs} pairs (need 1..{all_pairs})')
    if num_contexts < 1:
        raise ValueError(f'--num-contexts {num_contexts}: need at least one context per pair')
    if not ratios:
        raise ValueError('--orders: give at least one ratio r in [0, 1]')
    bad = [r for r in ratios if not 0 <= r <= 1]
    if bad:
        raise ValueError(f'--orders {bad}: a ratio r gives the order m = r * (n - 2) and the '
                         f'{grid}x{grid} grid has at most n - 2 = {num_patches - 2} context '
                         'patches; give ratios in [0, 1]')
    return [order_of(r, num_patches) for r in ratios]


def class_score(logits: torch.Tensor, labels: torch.Tensor, kind: str = 'log_odds') -> torch.Tensor:
    """v of each row: the true-class logit, or its log-odds log p / (1 - p) (the paper's
    choice) = logit_y - logsumexp(other logits). logits: (K, classes), labels: (K,)."""
    true = logits.gather(1, labels[:, None])[:, 0]
    if kind == 'logit':
        return true
    if kind == 'log_odds':
        others = logits.scatter(1, labels[:, None], float('-inf'))
        return true - torch.logsumexp(others, dim=1)
    raise ValueError(f'score {kind!r}: choose one of {SCORES}')


def sample_pairs(num_patches: int, num_pairs: int, generator: torch.Generator) -> torch.Tensor:
    """(P, 2) distinct patch pairs (i < j), uniformly without replacement."""
    pairs = torch.combinations(torch.arange(num_patches), 2)
    return pairs[torch.randperm(len(pairs), generator=generator)[:num_pairs]]


def sample_contexts(num_patches: int, pair: torch.Tensor, order: int, num_contexts: int,
                    generator: torch.Generator) -> torch.Tensor:
    """(C, n) bool: C random contexts S of ``order`` patches from N \\ {i, j}; a single
    one when only one such S exists (m = 0 or m = n - 2)."""
    others = torch.tensor([k for k in range(num_patches) if k not in pair.tolist()])
    count = 1 if math.comb(num_patches - 2, order) == 1 else num_contexts
    chosen = torch.rand(count, num_patches - 2, generator=generator).argsort(dim=1)[:, :order]
    contexts = torch.zeros(count, num_patches, dtype=torch.bool)
    contexts.scatter_(1, others[chosen], True)
    return contexts


def interaction_masks(contexts: torch.Tensor, pair: torch.Tensor) -> torch.Tensor:
    """(C, n) contexts -> (4C, n) kept-patch masks, per context: S+i+j, S+i, S+j, S."""
    i, j = pair.tolist()
    keep = contexts.repeat_interleave(4, dim=0)
    keep[0::4, i] = keep[0::4, j] = True
    keep[1::4, i] = True
    keep[2::4, j] = True
    return keep


def masked_images(image: torch.Tensor, keep: torch.Tensor, grid: int) -> torch.Tensor:
    """(3, H, W) image, (K, G*G) kept patches -> (K, 3, H, W), the other patches set to the
    image's per-channel mean."""
    dropped = (~keep).view(-1, grid, grid).long()
    pixels = mask_to_pixels(dropped, image.shape[-2:])
    return fill_masked_with_image_mean(image.expand(len(keep), *image.shape), pixels)


def image_interactions(score: Callable[[torch.Tensor], torch.Tensor], image: torch.Tensor,
                       grid: int, pairs: torch.Tensor, orders: Sequence[int],
                       num_contexts: int, generator: torch.Generator, batch_size: int = 128,
                       progress=None) -> torch.Tensor:
    """(len(orders), P) interactions I^(m)(i, j) of one image, averaged over the sampled
    contexts. ``score``: (K, 3, H, W) images -> (K,) scores v."""
    num_patches = grid * grid
    masks, segments = [], []
    for o, order in enumerate(orders):
        for p, pair in enumerate(pairs):
            contexts = sample_contexts(num_patches, pair, order, num_contexts, generator)
            masks.append(interaction_masks(contexts, pair))
            segments.append(torch.full((len(contexts), ), o * len(pairs) + p))
    # the same kept set recurs (S = {} or S = N minus the pair): evaluate each once
    unique, index = torch.unique(torch.cat(masks), dim=0, return_inverse=True)
    segments = torch.cat(segments)
    values, done = [], 0
    for start in range(0, len(unique), batch_size):
        chunk = unique[start:start + batch_size]
        values.append(score(masked_images(image, chunk.to(image.device), grid)).double().cpu())
        if progress is not None:  # counted in requested evaluations, duplicates included
            step = round((start + len(chunk)) * len(index) / len(unique)) - done
            progress.update(step)
            done += step
    v = torch.cat(values)[index]
    delta = v[0::4] - v[1::4] - v[2::4] + v[3::4]
    sums = torch.zeros(len(orders) * len(pairs), dtype=torch.double).index_add_(0, segments,
                                                                                delta)
    counts = torch.bincount(segments, minlength=len(orders) * len(pairs))
    return (sums / counts).view(len(orders), len(pairs))


def true_class_score(model: Callable[[torch.Tensor], torch.Tensor], label: torch.Tensor,
                     kind: str, images: torch.Tensor) -> torch.Tensor:
    """(K, 3, H, W) -> (K,) score v of class ``label`` (a (1,) tensor)."""
    return class_score(model(images), label.expand(len(images)), kind)


def forward_passes(grid: int, orders: Sequence[int], num_pairs: int, num_contexts: int) -> int:
    """Classifier evaluations requested per image (a few repeated sets are run once)."""
    n = grid * grid
    return 4 * num_pairs * sum(1 if math.comb(n - 2, m) == 1 else num_contexts for m in orders)


def interaction_strength(interactions: torch.Tensor) -> Dict[str, List[float]]:
    """(images, orders, pairs) I^(m)(i, j) -> ``strength`` E|I^(m)| per order, ``J`` =
    strength / its mean over the orders, and ``J_sem``, the standard error of J over the
    sampled (image, pair) values (how much of a J curve's shape is sampling noise)."""
    absolute = interactions.abs().transpose(0, 1).flatten(1)  # (orders, images * pairs)
    strength = absolute.mean(dim=1)
    sem = absolute.std(dim=1) / math.sqrt(absolute.shape[1]) if absolute.shape[1] > 1 \
        else torch.zeros_like(strength)
    return dict(strength=strength.tolist(), J=(strength / strength.mean()).tolist(),
                J_sem=(sem / strength.mean()).tolist())


def multi_order_interaction(model: Callable[[torch.Tensor], torch.Tensor],
                            batches: Iterable[Tuple[torch.Tensor, torch.Tensor]], grid: int,
                            ratios: Sequence[float] = DEFAULT_RATIOS, num_images: int = 8,
                            num_pairs: int = 8, num_contexts: int = 8, score: str = 'log_odds',
                            batch_size: int = 128, seed: int = 0,
                            image_size: Optional[Tuple[int, int]] = None,
                            show_progress: bool = True) -> Dict:
    """J(m) of a classifier over the first ``num_images`` images of ``batches``.

    Args:
        model: (K, 3, H, W) normalised images -> (K, classes) logits.
        batches: ((B, 3, H, W) normalised images, (B,) labels).
        grid: G, the image is cut into G x G patches.
        ratios: orders m = floor(r (n - 2)).
        num_pairs, num_contexts: sampled pairs per image, contexts per pair and order.
        score: 'log_odds' (log p/(1-p) of the true class, the paper's) or 'logit'.
        batch_size: images per forward pass.
        seed: seeds the pairs and contexts (the same for every model on the same data).
        image_size: (H, W) of the images, to check the request before any forward pass.
    Returns:
        dict with ``ratios``, ``orders``, ``strength`` (E|I^(m)|), ``J``, ``J_sem`` and the
        settings.
    """
    if score not in SCORES:
        raise ValueError(f'score {score!r}: choose one of {SCORES}')
    orders = check_request(grid, image_size, ratios, num_pairs, num_contexts)
    generator = torch.Generator().manual_seed(seed)
    per_image, seen = [], 0
    total = num_images * forward_passes(grid, orders, num_pairs, num_contexts)
    with torch.no_grad(), tqdm(total=total, desc='interactions', unit='fwd',
                               disable=not show_progress) as bar:
        for images, labels in batches:
            if image_size is None:  # the grid must tile the images
                image_size = tuple(images.shape[-2:])
                check_request(grid, image_size, ratios, num_pairs, num_contexts)
            for image, label in zip(images, labels):
                if seen == num_images:
                    break
                pairs = sample_pairs(grid * grid, num_pairs, generator)
                score_fn = partial(true_class_score, model, label.view(1).to(image.device),
                                   score)
                per_image.append(image_interactions(score_fn, image, grid, pairs, orders,
                                                    num_contexts, generator, batch_size, bar))
                seen += 1
            if seen == num_images:
                break
    if not per_image:
        raise ValueError('no images to analyse')
    return dict(ratios=list(ratios), orders=orders, **interaction_strength(torch.stack(per_image)),
                grid=grid,
                num_patches=grid * grid, num_images=seen, num_pairs=num_pairs,
                num_contexts=num_contexts, score=score, seed=seed,
                baseline='per-image per-channel mean')
