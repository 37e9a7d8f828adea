"""Frozen-backbone features of clean images, cached on disk.

:class:`FeatureExtractor` = the config's normalisation (an mmpretrain ``ClsDataPreprocessor``
with the model's mean/std/to_rgb; the MIM preprocessors' mask fill is never used) + the
config's backbone (random init, or weights from a pretraining checkpoint, an extracted
backbone or a classifier checkpoint) + :class:`FeaturePool`. Features are cached under a key
of (backbone weights, backbone config, image list, transform, normalisation, pooling).
"""
import copy
import hashlib
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.registry import DefaultScope
from mmengine.utils import ProgressBar
from torch import nn
from torch.utils.data import DataLoader

from mim_agnostic.models.backbones import AnyMIMBackbone
from mim_agnostic.models.necks import FeaturePool
from mim_agnostic.registry import MODELS
from mim_agnostic.utils.backbone_export import DROPPED_PREFIXES, backbone_weights, compare_keys
from mim_agnostic.utils.runtime import replace_sync_bn
from mim_agnostic.utils.safe_load import load_checkpoint_file, load_weights

POOL_MODES = FeaturePool.MODES
CACHE_VERSION = 1  # bump when the stored format or the extraction changes


@dataclass
class FeatureSet:
    """features: (N, C) float32; labels: (N, ) int64; classes: names, label = index."""
    features: torch.Tensor
    labels: torch.Tensor
    classes: Tuple[str, ...]


def _to_plain(value):
    """Config values as JSON-able plain types (for cache keys and saved configs)."""
    if isinstance(value, (dict, ConfigDict)):
        return {str(k): _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    return value


def preprocessor_cfg(cfg: Config) -> dict:
    """A ``ClsDataPreprocessor`` with the model's normalisation (mean, std, BGR->RGB)."""
    source = cfg.model.get('data_preprocessor') or {}
    return dict(type='ClsDataPreprocessor', mean=_to_plain(source.get('mean')),
                std=_to_plain(source.get('std')),
                to_rgb=bool(source.get('to_rgb', source.get('bgr_to_rgb', False))))


def backbone_cfg(cfg: Config, pool: str = 'avg') -> dict:
    """The config's backbone for inference: SyncBN -> BN, no init_cfg (weights come from
    the checkpoint); for ``pool='cls'`` the ViT returns its raw token sequence."""
    if pool not in POOL_MODES:
        raise ValueError(f'pool={pool!r} is not one of {POOL_MODES}')
    if 'backbone' not in cfg.get('model', {}):
        raise ValueError('the config has no model.backbone to evaluate')
    backbone = replace_sync_bn(copy.deepcopy(_to_plain(cfg.model.backbone)))
    backbone.pop('init_cfg', None)
    if pool == 'cls':
        inner = backbone['backbone'] if backbone['type'] == 'AnyMIMBackbone' else backbone
        inner['out_type'] = 'raw'
    return backbone


def plain_backbone(backbone: nn.Module) -> nn.Module:
    """The module whose keys an extracted checkpoint has (AnyMIMBackbone wraps one)."""
    return backbone.backbone if isinstance(backbone, AnyMIMBackbone) else backbone


def checkpoint_backbone_weights(path: str) -> Dict[str, torch.Tensor]:
    """Backbone weights with plain names from a pretraining checkpoint (``backbone.*``,
    mask token dropped), a classifier checkpoint or an extracted backbone."""
    weights = load_weights(path)
    if any(k.startswith(('backbone.', 'module.backbone.')) for k in weights):
        return backbone_weights(weights, path)
    return weights


def load_backbone(backbone: nn.Module, path: str) -> None:
    """Fill ``backbone`` from ``path``; ValueError naming the missing, unexpected and
    mis-shaped keys if the file was saved for another backbone (before any extraction)."""
    target = plain_backbone(backbone)
    weights = checkpoint_backbone_weights(path)
    missing, unexpected, mismatched = compare_keys(target, weights)
    if missing or unexpected or mismatched:
        raise ValueError(
            f'{path} does not fit the config backbone {type(target).__name__}: '
            f'{len(missing)} missing keys {missing[:8]}, {len(unexpected)} unexpected keys '
            f'{unexpected[:8]}, {len(mismatched)} mis-shaped keys '
            f'{[(k, tuple(weights[k].shape)) for k in mismatched[:5]]}')
    target.load_state_dict(weights, strict=False)  # only derived buffers can be absent


def weights_fingerprint(module: nn.Module) -> str:
    """sha1 of the module's tensors (names, dtypes, shapes, bytes); the mask token and
    derived buffers are left out, so a pretraining checkpoint and the backbone extracted
    from it share their features."""
    digest = hashlib.sha1()
    for name, tensor in sorted(plain_backbone(module).state_dict().items()):
        if name.startswith(DROPPED_PREFIXES) or name.endswith('relative_position_index'):
            continue
        data = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f'{name}:{data.dtype}:{tuple(tensor.shape)}'.encode())
        digest.update(data.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


@torch.no_grad()
def pooled_features(backbone: nn.Module, data_preprocessor: nn.Module, neck: nn.Module,
                    dataloader: DataLoader,
                    show_progress: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
    """((N, C) float32 features on the backbone's device, (N, ) labels) of every image of
    ``dataloader`` in its order; the modules are used as they are (put them in eval mode)."""
    device = next(backbone.parameters()).device
    data_preprocessor.to(device)  # mmengine's to(): the device it casts batches to
    bar = ProgressBar(len(dataloader.dataset)) if show_progress else None
    features, labels = [], []
    for batch in dataloader:
        batch['inputs'] = batch['inputs'].to(device)
        inputs = data_preprocessor(batch, False)['inputs']
        features.append(neck(backbone(inputs))[0].float())
        labels += [int(sample.gt_label) for sample in batch['data_samples']]
        if bar is not None:
            bar.update(len(batch['data_samples']))
    if bar is not None:
        print()
    return torch.cat(features), torch.tensor(labels, dtype=torch.long)


class FeatureExtractor(nn.Module):
    """Normalisation + backbone + :class:`FeaturePool`, in eval mode.

    Args:
        cfg: a model config with ``model.backbone`` and ``model.data_preprocessor``.
        checkpoint: pretraining checkpoint, extracted backbone or classifier checkpoint;
            None = random init (seeded by ``seed``), the baseline.
        pool: ``'avg'`` (global average / mean of patch tokens) or ``'cls'`` (ViT cls token).
    """

    def __init__(self, cfg: Config, checkpoint: Optional[str] = None, pool: str = 'avg',
                 seed: int = 0) -> None:
        super().__init__()
        self.backbone_cfg = backbone_cfg(cfg, pool)
        self.preprocessor_cfg = preprocessor_cfg(cfg)
        self.neck_cfg = dict(type='FeaturePool', mode=pool)
        self.checkpoint = checkpoint
        if checkpoint is not None and not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
        with DefaultScope.overwrite_default_scope('mim_agnostic'), \
                torch.random.fork_rng(devices=[]):  # seeded random init, global RNG untouched
            # the CPU generator only: torch.manual_seed would also reseed (and leave
            # reseeded) every CUDA generator, which fork_rng(devices=[]) does not restore
            torch.default_generator.manual_seed(seed)
            self.backbone = MODELS.build(self.backbone_cfg)
            if checkpoint is None:  # the config's own initialisation, as training starts
                self.backbone.init_weights()
            self.data_preprocessor = MODELS.build(self.preprocessor_cfg)
            self.neck = MODELS.build(self.neck_cfg)
        if checkpoint is not None:
            load_backbone(self.backbone, checkpoint)
        self.fingerprint = weights_fingerprint(self.backbone)
        self.eval()

    def cache_key(self, dataloader: DataLoader) -> str:
        """sha1 over everything the features depend on."""
        dataset = dataloader.dataset
        parts = dict(version=CACHE_VERSION, weights=self.fingerprint,
                     backbone=self.backbone_cfg, neck=self.neck_cfg,
                     preprocessor=self.preprocessor_cfg, transform=_to_plain(dataset.pipeline_cfg),
                     files=dataset.files.fingerprint())
        return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def extract(self, dataloader: DataLoader, show_progress: bool = True) -> FeatureSet:
        """Features of every image of ``dataloader``, in its order."""
        features, labels = pooled_features(self.backbone, self.data_preprocessor, self.neck,
                                           dataloader, show_progress)
        return FeatureSet(features.cpu(), labels, tuple(dataloader.dataset.metainfo['classes']))

    def features(self, dataloader: DataLoader, cache_dir: Optional[str] = None,
                 name: str = 'features', show_progress: bool = True) -> FeatureSet:
        """:meth:`extract`, read from / written to ``cache_dir`` when given."""
        if cache_dir is None:
            return self.extract(dataloader, show_progress)
        path = osp.join(cache_dir, f'{name}_{self.cache_key(dataloader)[:20]}.pth')
        if osp.isfile(path):
            stored = load_checkpoint_file(path)
            print_log(f'{name}: reusing cached features {path}', logger='current')
            return FeatureSet(stored['features'], stored['labels'], tuple(stored['classes']))
        result = self.extract(dataloader, show_progress)
        os.makedirs(cache_dir, exist_ok=True)
        tmp = f'{path}.tmp{os.getpid()}'
        torch.save(dict(features=result.features, labels=result.labels,
                        classes=list(result.classes), checkpoint=str(self.checkpoint)), tmp)
        os.replace(tmp, path)  # a killed run never leaves a truncated cache file
        print_log(f'{name}: extracted {tuple(result.features.shape)} features -> {path}',
                  logger='current')
        return result
