"""Export backbone + linear probe as an mmpretrain ``ImageClassifier`` (config + weights).

The classifier is the feature extractor's own pieces (``ClsDataPreprocessor`` with the same
normalisation, the same backbone config, :class:`FeaturePool`) plus a ``LinearClsHead``
whose weight and bias have the probe's standardisation folded in, so its logits equal
:meth:`LinearProbe.logits` of the same images' features. Load it with::

    cfg = Config.fromfile('DIR/classifier.py')
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, 'DIR/classifier.pth')
"""
import os
import os.path as osp
from typing import Dict, Sequence, Tuple

import torch
from mmengine.config import Config

from .data import eval_pipeline
from .features import FeatureExtractor
from .linear_probe import LinearProbe

CONFIG_NAME = 'classifier.py'
CHECKPOINT_NAME = 'classifier.pth'


def classifier_config(extractor: FeatureExtractor, num_classes: int, in_channels: int,
                      image_size: int) -> dict:
    """The ImageClassifier config (plain dict) of ``extractor`` + a linear head."""
    return dict(
        default_scope='mim_agnostic',
        model=dict(
            type='ImageClassifier',
            data_preprocessor=dict(extractor.preprocessor_cfg, num_classes=num_classes),
            backbone=extractor.backbone_cfg,
            neck=extractor.neck_cfg,
            head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=in_channels,
                      loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
                      topk=(1, 5) if num_classes >= 5 else (1, ))),
        # the eval transform the probe was trained with (what the logits assume)
        test_pipeline=eval_pipeline(image_size))


def classifier_state_dict(extractor: FeatureExtractor,
                          probe: LinearProbe) -> Dict[str, torch.Tensor]:
    """``backbone.*`` (as built from the config) + ``head.fc.*`` (standardisation folded)."""
    weight, bias = probe.folded()
    state = {f'backbone.{k}': v.detach().cpu().clone()
             for k, v in extractor.backbone.state_dict().items()}
    state['head.fc.weight'] = weight.detach().float().cpu().clone()
    state['head.fc.bias'] = bias.detach().float().cpu().clone()
    return state


def save_classifier(out_dir: str, extractor: FeatureExtractor, probe: LinearProbe,
                    classes: Sequence[str], image_size: int,
                    meta: Dict[str, object]) -> Tuple[str, str]:
    """Write ``out_dir/classifier.py`` and ``out_dir/classifier.pth``; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    config_path = osp.join(out_dir, CONFIG_NAME)
    checkpoint_path = osp.join(out_dir, CHECKPOINT_NAME)
    num_classes, in_channels = probe.weight.shape
    Config(classifier_config(extractor, num_classes, in_channels, image_size)).dump(config_path)
    torch.save(dict(state_dict=classifier_state_dict(extractor, probe),
                    meta=dict(meta, dataset_meta=dict(classes=list(classes)))),
               checkpoint_path)
    return config_path, checkpoint_path
