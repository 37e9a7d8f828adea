"""Build what the analyses run on: a config's backbone or classifier, with its weights."""
from typing import Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.models import SelfSupDataPreprocessor
from torch import nn

from mim_agnostic.registry import MODELS
from mim_agnostic.utils.backbone_export import backbone_weights
from mim_agnostic.utils.safe_load import check_weights_fit, load_weights

IGNORED_MISSING = ('num_batches_tracked', 'relative_position_index')


def build_config_model(config: str) -> nn.Module:
    """``cfg.model`` of a config file, built in the config's default scope, in eval mode."""
    cfg = Config.fromfile(config)
    if 'model' not in cfg:
        raise ValueError(f'{config} has no "model" entry')
    init_default_scope(cfg.get('default_scope', 'mim_agnostic'))
    model = MODELS.build(cfg.model)
    model.eval()  # mmpretrain's ResNet.train() returns None: no chaining
    return model


def analysed_backbone(model: nn.Module, config: str) -> nn.Module:
    """The backbone whose modules are tapped: ``model.backbone``, unwrapped from
    ``AnyMIMBackbone`` (which only adds a mask token) so its stage names are the plain
    backbone's."""
    backbone = getattr(model, 'backbone', None)
    if backbone is None:
        raise ValueError(f'{config}: model {type(model).__name__} has no backbone')
    if type(backbone).__name__ == 'AnyMIMBackbone':
        backbone = backbone.backbone
    return backbone


def load_backbone(config: str, checkpoint: Optional[str]) -> Tuple[nn.Module, nn.Module]:
    """(backbone, data preprocessor) of ``config`` with the backbone weights of
    ``checkpoint``: a pretraining or classifier checkpoint (``backbone.*`` keys), an
    extracted backbone (plain keys), or None (random init, the baseline)."""
    model = build_config_model(config)
    backbone = analysed_backbone(model, config)
    if checkpoint:
        weights = load_weights(checkpoint)
        if any(key.startswith(('backbone.', 'module.backbone.')) for key in weights):
            weights = backbone_weights(weights, checkpoint)
        check_weights_fit(backbone, weights, checkpoint)
        backbone.load_state_dict(weights, strict=False)
    return backbone, model.data_preprocessor


def load_classifier(config: str, checkpoint: str) -> nn.Module:
    """An mmpretrain classifier (e.g. ``ImageClassifier``) of ``config`` with every weight
    of ``checkpoint`` (weights only); missing weights are an error, not a random head."""
    model = build_config_model(config)
    if not hasattr(model, 'head'):
        raise ValueError(f'{config}: model {type(model).__name__} is not a classifier '
                         '(no head); give a classifier config such as the one '
                         '`tools/evaluate.py --save-classifier DIR` writes')
    weights = load_weights(checkpoint)
    check_weights_fit(model, weights, checkpoint)
    missing, _ = model.load_state_dict(weights, strict=False)
    missing = [key for key in missing if not key.endswith(IGNORED_MISSING)]
    if missing:
        raise ValueError(f'{checkpoint} does not hold every weight of the classifier in '
                         f'{config}: missing {missing[:8]}')
    return model


def normalised_images(preprocessor: nn.Module, batch: dict) -> Tuple[torch.Tensor, list]:
    """(B, 3, H, W) float images of a data-loader batch, normalised by the model's own data
    preprocessor (mean/std, BGR->RGB as the config says), and the batch's data samples."""
    if isinstance(preprocessor, SelfSupDataPreprocessor):  # it takes a list of views
        batch = dict(batch, inputs=[batch['inputs']])
    data = preprocessor(batch, False)
    inputs = data['inputs']
    return (inputs[0] if isinstance(inputs, (list, tuple)) else inputs), data['data_samples']
