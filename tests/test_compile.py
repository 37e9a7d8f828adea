"""The A²MIM training path (backbone with token + decoder + both losses) traces into one
torch.compile graph: no graph breaks, no host-device syncs in the loss."""
import pytest
import torch
import torch._dynamo as dynamo
from mmengine.config import Config

from mim_agnostic.registry import MODELS
from mim_agnostic.utils.runtime import replace_sync_bn
from conftest import REPO_ROOT


@pytest.mark.parametrize('config', ['a2mim_r50.py', 'a2mim_r101.py', 'a2mim_vit-small.py',
                                    'a2mim_convnext-tiny.py'])
def test_training_path_has_no_graph_break(config):
    cfg = Config.fromfile(f'{REPO_ROOT}/configs/{config}')
    if cfg.model.backbone.type == 'MIMViT':
        cfg.model.backbone.img_size = 64
    cfg.model.backbone.drop_path_rate = 0.1  # drop path must trace too
    model = MODELS.build(replace_sync_bn(cfg.model))
    grid = 64 // model.backbone.mask_stride
    images = torch.randn(2, 3, 64, 64)
    mask = (torch.rand(2, grid, grid) > 0.5).long()

    def training_loss(encoder_input, target, token_mask):
        pred = model.neck(model.backbone(encoder_input, token_mask))
        return sum(model.head.loss(pred, target, token_mask).values())

    explanation = dynamo.explain(training_loss)(images, images, mask)
    assert explanation.graph_break_count == 0, [b.reason for b in explanation.break_reasons]
    assert explanation.graph_count == 1
