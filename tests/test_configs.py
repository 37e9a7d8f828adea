"""Every config in configs/ builds and runs one training step at reduced size."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mim_agnostic.registry import MODELS, TRANSFORMS
from mim_agnostic.utils.config_check import check_mim_model_against_data, find_transforms
from mim_agnostic.utils.runtime import adapt_to_cpu
from conftest import REPO_ROOT

CONFIGS = sorted(
    osp.relpath(path, REPO_ROOT)
    for path in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in path)
SIZE = 64  # reduced crop: every stride (16 or 32) and the 32 px mask blocks divide it


def test_all_flagship_configs_exist():
    names = {osp.basename(path) for path in CONFIGS}
    assert {'a2mim_r50.py', 'a2mim_r101.py', 'a2mim_r152.py', 'a2mim_r200.py',
            'a2mim_vit-small.py', 'a2mim_vit-base.py', 'a2mim_vit-large.py',
            'a2mim_convnext-tiny.py', 'a2mim_convnext-small.py',
            'a2mim_convnext-base.py', 'a2mim_r50_demo.py'} <= names


def reduced_batch(cfg: Config, batch_size: int = 2) -> dict:
    """uint8 images + masks drawn by the config's own mask generator at SIZE px."""
    (_, mask_cfg), = find_transforms(cfg.train_dataloader, 'model_patch_size')
    generator = TRANSFORMS.build({**mask_cfg, 'input_size': SIZE})
    samples = []
    for _ in range(batch_size):
        sample = DataSample()
        sample.set_mask(torch.from_numpy(generator.generate_mask()))
        samples.append(sample)
    images = torch.randint(0, 256, (batch_size, 3, SIZE, SIZE), dtype=torch.uint8)
    return dict(inputs=images, data_samples=samples)


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds_and_trains_one_step(config):
    cfg = adapt_to_cpu(Config.fromfile(osp.join(REPO_ROOT, config)))
    assert cfg.default_scope == 'mim_agnostic'
    init_default_scope('mim_agnostic')
    for transform in cfg.train_dataloader.dataset.pipeline:
        TRANSFORMS.build(transform)
    if cfg.model.backbone.type == 'MIMViT':
        cfg.model.backbone.img_size = SIZE
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    check_mim_model_against_data(model, cfg)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    token = model.backbone.mask_mixer.mask_token
    before = token.detach().clone()
    losses = model.train_step(reduced_batch(cfg), optim_wrapper)
    assert 'loss_rec' in losses and torch.isfinite(losses['loss']).all()
    expects_fft = cfg.model.head.get('fft_weight', 0) > 0
    assert ('loss_fft' in losses) == expects_fft
    if optim_wrapper._accumulative_counts == 1:
        assert not torch.equal(before, token.detach())  # the token was trained
    params = sum(p.numel() for p in model.backbone.parameters()) / 1e6
    print(f'{config}: backbone {params:.1f} M parameters')
