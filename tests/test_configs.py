"""Every config in configs/ builds and runs one training step at reduced size."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mim_agnostic.benchmark import masked_batch
from mim_agnostic.registry import MODELS, TRANSFORMS
from mim_agnostic.utils.config_check import check_mim_model_against_data
from mim_agnostic.utils.runtime import adapt_to_cpu
from conftest import REPO_ROOT

CONFIGS = sorted(
    osp.relpath(path, REPO_ROOT)
    for path in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in path and 'downstream' not in path
    and osp.basename(path).startswith('a2mim'))  # A²MIM pretraining configs (test_methods:
#                                                  SimMIM, SymMIM, MixMIM)
# parameters (M) of each encoder with a 1000-class linear classifier, as the A²MIM README
# lists them (ViT-S is the 768-d x 8-layer mmcls ViT-S)
PAPER_PARAMS_M = {'a2mim_r50.py': 25.6, 'a2mim_r101.py': 44.5, 'a2mim_r152.py': 60.2,
                  'a2mim_r200.py': 64.7, 'a2mim_vit-small.py': 48.8, 'a2mim_vit-base.py': 86.7,
                  'a2mim_vit-large.py': 304.6, 'a2mim_convnext-small.py': 50.2,
                  'a2mim_convnext-base.py': 88.6,
                  # mmpretrain's model zoo: Swin-T 28.29, PoolFormer-S12 11.92
                  'a2mim_swin-tiny.py': 28.29, 'a2mim_poolformer-s12.py': 11.92}
SIZE = 64  # reduced crop: every stride (16 or 32) and the 32 px mask blocks divide it


def test_all_flagship_configs_exist():
    names = {osp.basename(path) for path in CONFIGS}
    assert {'a2mim_r50.py', 'a2mim_r101.py', 'a2mim_r152.py', 'a2mim_r200.py',
            'a2mim_vit-small.py', 'a2mim_vit-base.py', 'a2mim_vit-large.py',
            'a2mim_convnext-tiny.py', 'a2mim_convnext-small.py',
            'a2mim_convnext-base.py', 'a2mim_r50_demo.py', 'a2mim_swin-tiny.py',
            'a2mim_poolformer-s12.py'} <= names


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds_and_trains_one_step(config):
    cfg = adapt_to_cpu(Config.fromfile(osp.join(REPO_ROOT, config)))
    assert cfg.default_scope == 'mim_agnostic'
    init_default_scope('mim_agnostic')
    for transform in cfg.train_dataloader.dataset.pipeline:
        TRANSFORMS.build(transform)
    full_size_backbone = cfg.model.backbone.copy()
    if cfg.model.backbone.type == 'MIMViT':
        cfg.model.backbone.img_size = SIZE
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    check_mim_model_against_data(model, cfg)
    assert model.data_preprocessor.mask_fill == 'mean'
    assert model.data_preprocessor._enable_normalize
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    token = model.backbone.mask_mixer.mask_token
    before = token.detach().clone()
    losses = model.train_step(masked_batch(cfg, SIZE, 2), optim_wrapper)
    assert 'loss_rec' in losses and torch.isfinite(losses['loss']).all()
    expects_fft = cfg.model.head.get('fft_weight', 0) > 0
    assert ('loss_fft' in losses) == expects_fft
    if optim_wrapper._accumulative_counts == 1:
        assert not torch.equal(before, token.detach())  # the token was trained
    # ViT position tables scale with img_size: count at the config's own size
    backbone = MODELS.build(full_size_backbone) if cfg.model.backbone.type == 'MIMViT' \
        else model.backbone
    encoder = sum(p.numel() for name, p in backbone.named_parameters()
                  if not name.startswith('mask_mixer.'))
    classifier = model.neck.predictor.in_channels * 1000 + 1000
    expected = PAPER_PARAMS_M.get(osp.basename(config))
    if expected is not None:
        assert (encoder + classifier) / 1e6 == pytest.approx(expected, abs=0.15)


def param_groups_by_name(config):
    cfg = adapt_to_cpu(Config.fromfile(osp.join(REPO_ROOT, config)))
    init_default_scope('mim_agnostic')
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    group_of = {id(p): g for g in wrapper.optimizer.param_groups for p in g['params']}
    return {name: group_of[id(p)] for name, p in model.named_parameters()}


def test_vit_recipe_weight_decay_per_parameter():
    groups = param_groups_by_name('configs/a2mim_vit-small.py')
    for name in ('backbone.pos_embed', 'backbone.cls_token', 'backbone.mask_mixer.mask_token',
                 'backbone.layers.0.attn.q_bias', 'backbone.layers.0.attn.v_bias',
                 'backbone.layers.0.attn.relative_position_bias_table',
                 'backbone.layers.0.gamma_1', 'backbone.layers.0.ln1.weight'):
        assert groups[name]['weight_decay'] == 0, name
        assert groups[name]['lr'] == pytest.approx(4e-4)
    assert groups['backbone.layers.0.attn.qkv.weight']['weight_decay'] == pytest.approx(0.05)


def lr_per_iteration(config, epoch_length):
    """The lr of every iteration under the config's schedule, built as the Runner builds it
    (epoch-based schedulers converted to iterations)."""
    from mmengine.registry import PARAM_SCHEDULERS
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    base_lr = cfg.optim_wrapper.optimizer.lr
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    schedulers = []
    for scheduler_cfg in cfg.param_scheduler:
        kwargs = {k: v for k, v in scheduler_cfg.items()
                  if k not in ('type', 'by_epoch', 'convert_to_iter_based')}
        scheduler_cls = PARAM_SCHEDULERS.get(scheduler_cfg['type'])
        schedulers.append(scheduler_cls.build_iter_from_epoch(
            optimizer, epoch_length=epoch_length, **kwargs))
    lrs = []
    for _ in range(cfg.train_cfg.max_epochs * epoch_length):
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    return lrs


def test_cnn_schedule_warms_up_from_zero_then_cosine_to_1e_5():
    lrs = lr_per_iteration('configs/a2mim_r50.py', epoch_length=4)
    assert len(lrs) == 300 * 4
    assert lrs[0] == pytest.approx(1.2e-9)
    # mmengine's LinearLR reaches the full lr at the last warmup iteration (39 of 0..39)
    assert lrs[20] == pytest.approx(1.2e-3 * (1e-6 + (1 - 1e-6) * 20 / 39), rel=1e-4)
    assert lrs[40] == pytest.approx(1.2e-3, rel=1e-4)
    assert lrs[-1] == pytest.approx(1e-5, rel=0.02)
    assert all(a >= b for a, b in zip(lrs[40:], lrs[41:]))


def test_vit_schedule_steps_down_at_epoch_700():
    lrs = lr_per_iteration('configs/a2mim_vit-base.py', epoch_length=1)
    assert lrs[0] == pytest.approx(4e-4 * 2e-6)
    assert lrs[10] == pytest.approx(4e-4, rel=1e-4) and lrs[699] == pytest.approx(4e-4, rel=1e-4)
    assert lrs[700] == pytest.approx(4e-5, rel=1e-4) and lrs[-1] == pytest.approx(4e-5, rel=1e-4)
