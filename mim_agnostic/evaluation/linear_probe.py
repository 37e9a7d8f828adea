"""Linear probe on frozen features (MAE-style: per-dimension standardisation, which is a
BatchNorm without affine in eval mode, then one linear layer).

The layer minimises mean cross-entropy + weight_decay / 2 * ||W||^2 (bias not decayed) with
full-batch L-BFGS from zero: a strictly convex problem, so the result is deterministic and
"trained to convergence" is checkable (gradient norm). The weight decay is chosen on a
stratified held-out part of train, then the layer is refit on all of train.
"""
from dataclasses import dataclass
from typing import Dict, Sequence, Tuple

import torch
import torch.nn.functional as F

from .knn import topk_accuracy

DEFAULT_WEIGHT_DECAYS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
STD_EPS = 1e-6  # MAE's BatchNorm1d(affine=False, eps=1e-6)
CONVERGED_GRAD = 1e-4  # largest |gradient| of the objective reported as converged


@dataclass
class LinearProbe:
    """logits = ((x - mean) / std) @ weight.T + bias; mean, std: (D, ); weight: (C, D)."""
    mean: torch.Tensor
    std: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """(N, D) -> (N, C)."""
        x = (features.to(self.weight) - self.mean) / self.std
        return x @ self.weight.T + self.bias

    def folded(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """(weight, bias) of one linear layer on raw features with the same logits."""
        weight = self.weight / self.std
        return weight, self.bias - weight @ self.mean


def standardisation(features: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension mean and sqrt(biased variance + eps) of (N, D) features."""
    mean = features.mean(dim=0)
    return mean, (features.var(dim=0, unbiased=False) + STD_EPS).sqrt()


def fit_linear(features: torch.Tensor, labels: torch.Tensor, num_classes: int,
               weight_decay: float, max_iter: int = 1000,
               tolerance: float = 1e-6) -> Tuple[LinearProbe, Dict[str, float]]:
    """Standardise with these features' statistics and fit the layer; returns the probe
    and ``{'iterations', 'grad_max', 'loss'}`` (grad_max <= tolerance: converged)."""
    features = features.float()
    mean, std = standardisation(features)
    x = (features - mean) / std
    labels = labels.to(x.device)
    weight = torch.zeros(num_classes, x.shape[1], device=x.device, requires_grad=True)
    bias = torch.zeros(num_classes, device=x.device, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1, max_iter=max_iter,
                                  tolerance_grad=tolerance, tolerance_change=1e-12,
                                  history_size=20, line_search_fn='strong_wolfe')

    def objective() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(x @ weight.T + bias, labels) + \
            0.5 * weight_decay * weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(objective)
        loss = objective()
    grad_max = max(weight.grad.abs().max().item(), bias.grad.abs().max().item())
    probe = LinearProbe(mean, std, weight.detach(), bias.detach())
    state = optimizer.state[weight]
    return probe, dict(iterations=int(state.get('n_iter', 0)), grad_max=grad_max,
                       loss=loss.item())


def stratified_holdout(labels: torch.Tensor, fraction: float,
                       seed: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """(fit indices, held-out indices): ``fraction`` of each class's samples held out (at
    least one and never all of a class; a class with one sample stays in fit)."""
    generator = torch.Generator().manual_seed(seed)
    fit, held = [], []
    labels = labels.cpu()
    for label in labels.unique().tolist():
        members = (labels == label).nonzero().flatten()
        members = members[torch.randperm(len(members), generator=generator)]
        count = min(len(members) - 1, max(1, round(fraction * len(members))))
        held.append(members[:count])
        fit.append(members[count:])
    return torch.cat(fit).sort().values, torch.cat(held).sort().values


def linear_probe(train_features: torch.Tensor, train_labels: torch.Tensor,
                 val_features: torch.Tensor, val_labels: torch.Tensor, num_classes: int,
                 weight_decays: Sequence[float] = DEFAULT_WEIGHT_DECAYS,
                 holdout: float = 0.2, seed: int = 0,
                 max_iter: int = 1000) -> Tuple[Dict[str, object], LinearProbe]:
    """The linear protocol: weight decay chosen by held-out top-1 (ties: lower held-out
    loss), refit on all of train, top-1/top-5 on val in percent. Returns (result, probe)."""
    if not weight_decays:
        raise ValueError('weight_decays is empty')
    if not 0 < holdout < 1:
        raise ValueError(f'holdout={holdout} must be in (0, 1)')
    train_labels = train_labels.to(train_features.device)
    fit_idx, held_idx = stratified_holdout(train_labels, holdout, seed)
    sweep = {}
    if len(weight_decays) > 1 and len(held_idx):
        fit_idx, held_idx = fit_idx.to(train_features.device), held_idx.to(train_features.device)
        for decay in weight_decays:
            probe, _ = fit_linear(train_features[fit_idx], train_labels[fit_idx], num_classes,
                                  decay, max_iter)
            with torch.no_grad():
                logits = probe.logits(train_features[held_idx])
                loss = F.cross_entropy(logits, train_labels[held_idx]).item()
            sweep[decay] = (topk_accuracy(logits, train_labels[held_idx], (1, ))['top1'], loss)
        chosen = max(weight_decays, key=lambda d: (sweep[d][0], -sweep[d][1]))
    else:
        chosen = weight_decays[len(weight_decays) // 2]
    probe, info = fit_linear(train_features, train_labels, num_classes, chosen, max_iter)
    with torch.no_grad():
        accuracy = topk_accuracy(probe.logits(val_features), val_labels)
    result = dict(**accuracy, weight_decay=chosen,
                  sweep={f'{d:g}': dict(heldout_top1=acc, heldout_loss=loss)
                         for d, (acc, loss) in sweep.items()},
                  holdout_fraction=holdout, num_heldout=int(len(held_idx)) if sweep else 0,
                  iterations=info['iterations'], grad_max=info['grad_max'],
                  converged=info['grad_max'] <= CONVERGED_GRAD)
    return result, probe
