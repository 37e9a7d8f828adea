"""Build what the analyses run on: a config's backbone or classifier, with its weights."""
from typing import Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch import nn

from mim_agnostic.evaluation.features import FeatureExtractor, plain_backbone
from mim_agnostic.registry import MODELS
from mim_agnostic.utils.config_check import find_transforms
from mim_agnostic.utils.backbone_export import compare_keys
from mim_agnostic.utils.safe_load import load_weights


def load_backbone(config: str, checkpoint: Optional[str]) -> Tuple[nn.Module, nn.Module]:
    """(backbone to tap, data preprocessor) of ``config``, as the evaluation extracts
    features: the config's normalisation and backbone with the weights of a pretraining,
    classifier or extracted-backbone ``checkpoint`` (None: seeded random init).
    ``AnyMIMBackbone`` is unwrapped (it only adds a mask token): taps use the plain
    backbone's module names."""
    extractor = FeatureExtractor(Config.fromfile(config), checkpoint)
    return plain_backbone(extractor.backbone), extractor.data_preprocessor


def load_classifier(config: str, checkpoint: str) -> nn.Module:
    """An mmpretrain classifier (e.g. ``ImageClassifier``) of ``config`` in eval mode with
    every weight of ``checkpoint`` (weights only); a missing, unexpected or mis-shaped
    weight is an error naming it, not a random head or a silently ignored tensor."""
    cfg = Config.fromfile(config)
    if 'model' not in cfg:
        raise ValueError(f'{config} has no "model" entry')
    init_default_scope(cfg.get('default_scope', 'mim_agnostic'))
    model = MODELS.build(cfg.model)
    if not hasattr(model, 'head'):
        raise ValueError(f'{config}: model {type(model).__name__} is not a classifier '
                         '(no head); give a classifier config such as the one '
                         '`tools/evaluate.py --save-classifier DIR` writes')
    weights = load_weights(checkpoint)
    missing, unexpected, mismatched = compare_keys(model, weights, skip=())
    missing = [key for key in missing if not key.endswith('num_batches_tracked')]
    if missing or unexpected or mismatched:
        raise ValueError(f'{checkpoint} does not fit the classifier in {config}: missing '
                         f'{missing[:8]}, unexpected {unexpected[:8]}, mis-shaped '
                         f'{mismatched[:8]}')
    model.load_state_dict(weights, strict=False)
    model.eval()  # mmpretrain's ResNet.train() returns None: no chaining
    return model


def classifier_image_size(config: str) -> Optional[int]:
    """The crop size a classifier config was trained at: its ``test_pipeline``'s
    ``CenterCrop`` (what ``--save-classifier`` writes), else None."""
    for _, transform in find_transforms(Config.fromfile(config).get('test_pipeline', []),
                                        'crop_size'):
        size = transform['crop_size']
        return int(size if isinstance(size, int) else max(size))
    return None


def normalised_images(preprocessor: nn.Module, batch: dict) -> Tuple[torch.Tensor, list]:
    """(B, 3, H, W) float images of an evaluation-loader batch, normalised by the model's
    data preprocessor (mean/std, BGR->RGB as the config says), and its data samples."""
    data = preprocessor(batch, False)
    return data['inputs'], data['data_samples']
