"""Weighted k-nearest-neighbour classification (DINO / mmselfsup protocol)."""
from typing import Dict, Tuple

import torch
import torch.nn.functional as F


def nearest_neighbours(queries: torch.Tensor, keys: torch.Tensor, k: int,
                       query_chunk: int = 1024,
                       key_chunk: int = 65536) -> Tuple[torch.Tensor, torch.Tensor]:
    """(similarities, indices), each (Q, k), of the k largest ``queries @ keys.T`` per row,
    best first; computed in (query_chunk x key_chunk) blocks with a running top-k, so no
    (Q, N) matrix is ever held."""
    sims, indices = [], []
    for start in range(0, queries.shape[0], query_chunk):
        query = queries[start:start + query_chunk]
        best_sim = query.new_empty(query.shape[0], 0)
        best_idx = torch.empty(query.shape[0], 0, dtype=torch.long, device=query.device)
        for key_start in range(0, keys.shape[0], key_chunk):
            block = query @ keys[key_start:key_start + key_chunk].T
            block_sim, block_idx = block.topk(min(k, block.shape[1]), dim=1)
            merged_sim = torch.cat((best_sim, block_sim), dim=1)
            merged_idx = torch.cat((best_idx, block_idx + key_start), dim=1)
            best_sim, order = merged_sim.topk(min(k, merged_sim.shape[1]), dim=1)
            best_idx = merged_idx.gather(1, order)
        sims.append(best_sim)
        indices.append(best_idx)
    return torch.cat(sims), torch.cat(indices)


def knn_scores(train_features: torch.Tensor, train_labels: torch.Tensor,
               query_features: torch.Tensor, num_classes: int, k: int = 20,
               temperature: float = 0.07, query_chunk: int = 1024) -> torch.Tensor:
    """(Q, num_classes) class scores: features L2-normalised, the k most cosine-similar
    train features vote for their class with weight exp(sim / temperature)."""
    if k < 1:
        raise ValueError(f'k={k} must be >= 1')
    if temperature <= 0:
        raise ValueError(f'temperature={temperature} must be > 0')
    train = F.normalize(train_features.float(), dim=1)
    query = F.normalize(query_features.float(), dim=1)
    train_labels = train_labels.to(query.device)
    scores = []
    for start in range(0, query.shape[0], query_chunk):
        sims, indices = nearest_neighbours(query[start:start + query_chunk], train,
                                           min(k, train.shape[0]), query_chunk)
        # one-hot votes, as DINO (scatter_add_ has no deterministic CUDA kernel)
        votes = F.one_hot(train_labels[indices], num_classes).to(sims.dtype)
        scores.append((votes * (sims / temperature).exp()[..., None]).sum(dim=1))
    return torch.cat(scores)


def topk_accuracy(scores: torch.Tensor, labels: torch.Tensor,
                  topk: Tuple[int, ...] = (1, 5)) -> Dict[str, float]:
    """``{'top1': .., 'top5': ..}`` in percent; top-k with k above the class count counts
    every label as found."""
    labels = labels.to(scores.device)
    ranked = scores.topk(min(max(topk), scores.shape[1]), dim=1).indices
    hits = ranked == labels[:, None]
    return {f'top{k}': 100.0 * hits[:, :k].any(dim=1).float().mean().item() for k in topk}


def knn_classify(train_features: torch.Tensor, train_labels: torch.Tensor,
                 val_features: torch.Tensor, val_labels: torch.Tensor, num_classes: int,
                 k: int = 20, temperature: float = 0.07) -> Dict[str, float]:
    """The kNN protocol: ``{'top1', 'top5', 'k', 'temperature'}`` (accuracies in percent)."""
    scores = knn_scores(train_features, train_labels, val_features, num_classes, k,
                        temperature)
    return dict(**topk_accuracy(scores, val_labels), k=k, temperature=temperature)
