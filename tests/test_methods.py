"""SimMIM, SymMIM and MixMIM: every config trains one step at reduced size, the masks have
the exact patterns, EMA and InfoNCE match hand computations, SimMIM-Swin equals mmpretrain's
SimMIM, MixMIM tokens come from exactly one image."""
import glob
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmpretrain.structures import DataSample

from mim_agnostic.benchmark import masked_batch
from mim_agnostic.datasets.transforms import CheckerboardMaskGenerator
from mim_agnostic.registry import MODELS, TRANSFORMS
from mim_agnostic.utils.config_check import check_mim_model_against_data, find_transforms
from mim_agnostic.utils.runtime import adapt_to_cpu
from conftest import REPO_ROOT

METHOD_CONFIGS = sorted(
    osp.relpath(path, REPO_ROOT)
    for path in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if osp.basename(path).startswith(('simmim', 'symmim', 'mixmim'))
    and '_base_' not in path and 'downstream' not in path)


def load(config: str) -> Config:
    return adapt_to_cpu(Config.fromfile(osp.join(REPO_ROOT, config)))


def reduce_model(cfg: Config) -> int:
    """Shrink the config's model for one CPU step; returns the crop size to use."""
    backbone = cfg.model.backbone
    if backbone.type == 'MIMViT':
        backbone.img_size = 64
    if backbone.type == 'SimMIMSwinTransformer':
        backbone.update(arch='tiny', img_size=64, stage_cfgs=dict(block_cfgs=dict(window_size=2)))
        cfg.model.neck.in_channels = 768
    if backbone.type == 'MixMIMPretrainTransformer':  # window sizes fix the 224 px input
        backbone.arch = dict(embed_dims=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1])
        cfg.model.neck.update(embed_dim=128, decoder_embed_dim=16, decoder_depth=1,
                              decoder_num_heads=1)
        return 224
    for mlp in (cfg.model.get('projector'), cfg.model.get('contrast_head', {}).get('predictor')):
        if mlp is not None:
            mlp.hid_channels = 64
    return 64


@pytest.mark.parametrize('config', METHOD_CONFIGS)
def test_method_config_builds_and_trains_one_step(config):
    cfg = load(config)
    assert cfg.default_scope == 'mim_agnostic'
    for transform in cfg.train_dataloader.dataset.pipeline:
        TRANSFORMS.build(transform)
    size = reduce_model(cfg)
    MessageHub.get_current_instance().update_info('max_iters', 10)  # SymMIM's EMA schedule
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    check_mim_model_against_data(model, cfg)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = {n: p.detach().clone() for n, p in model.backbone.named_parameters()}
    np.random.seed(0)  # random-phase checkerboards: phase 1 for one image, 0 for the other
    losses = model.train_step(masked_batch(cfg, size, 2), optim_wrapper)
    assert torch.isfinite(losses['loss']).all()
    if osp.basename(config).startswith('symmim'):
        assert {'loss_rec', 'loss_con'} <= set(losses)
    if optim_wrapper._accumulative_counts == 1:
        changed = [n for n, p in model.backbone.named_parameters()
                   if not torch.equal(before[n], p.detach())]
        assert len(changed) > len(before) // 2
        if hasattr(model.backbone, 'mask_token') or hasattr(model.backbone, 'mask_mixer'):
            assert any('mask_token' in n for n in changed)


@pytest.mark.parametrize('config,stride', [('configs/simmim_vit-base_800e.py', 16),
                                           ('configs/simmim_r50_300e.py', 4)])
def test_simmim_is_the_a2mim_pieces_with_simmim_choices(config, stride):
    cfg = load(config)
    assert cfg.model.data_preprocessor.mask_fill is None
    assert cfg.model.backbone.mask_mode == 'replace'
    assert cfg.model.head == dict(type='A2MIMHead', loss=dict(
        type='MaskedReconstructionLoss', criterion='l1'))
    (_, mask_cfg), = find_transforms(cfg.train_dataloader, 'model_patch_size')
    assert (mask_cfg['mask_patch_size'], mask_cfg['mask_ratio'],
            mask_cfg['model_patch_size']) == (32, 0.6, stride)
    reduce_model(cfg)
    assert MODELS.build(cfg.model).backbone.mask_stride == stride


def test_simmim_swin_equals_mmpretrain_simmim():
    """The same weights give the same loss in mmpretrain's SimMIM (its decoder, head and
    PixelReconstructionLoss(channel=3)) and in the toolkit's config."""
    cfg = load('configs/simmim_swin-base_100e_192px.py')
    reduce_model(cfg)
    torch.manual_seed(0)
    ours = MODELS.build(cfg.model)
    ours.init_weights()
    theirs = MODELS.build(dict(
        type='SimMIM', backbone=cfg.model.backbone,
        neck=dict(type='SimMIMLinearDecoder', in_channels=768, encoder_stride=32),
        head=dict(type='SimMIMHead', patch_size=4,
                  loss=dict(type='PixelReconstructionLoss', criterion='L1', channel=3)),
        data_preprocessor={k: v for k, v in cfg.model.data_preprocessor.items()
                           if k != 'mask_fill'} | dict(type='SelfSupDataPreprocessor')))
    theirs.backbone.load_state_dict(ours.backbone.state_dict())
    theirs.neck.decoder[0].load_state_dict(ours.neck.predictor.state_dict())
    data = masked_batch(cfg, 64, 2)
    ours.eval(), theirs.eval()
    with torch.no_grad():
        loss_ours = ours(**ours.data_preprocessor(data, True), mode='loss')['loss_rec']
        loss_theirs = theirs(**theirs.data_preprocessor(data, True), mode='loss')['loss']
    assert loss_ours.item() == pytest.approx(loss_theirs.item(), rel=1e-5)


# ----------------------------------------------------------------------------- SymMIM masks
def masks(size=224, cell=16, stride=16, scale=2, random_phase=False):
    generator = CheckerboardMaskGenerator(size, cell, stride, scale, random_phase)
    results = generator(dict(img=np.zeros((size, size, 3), np.uint8)))
    return results['mask'], results['momentum_mask']


def test_checkerboards_are_the_paper_formulas_and_symmetric():
    m1, m2 = masks()
    i, j = np.meshgrid(np.arange(14), np.arange(14), indexing='ij')
    assert np.array_equal(m1, (i + j) % 2)  # M1 = (i + j) mod 2
    assert np.array_equal(m2, (i // 2 + j // 2) % 2)  # M2 with k = 2
    assert m1.sum() == 98  # exactly half of 196 patches
    assert np.array_equal(m1, m1[::-1, ::-1])  # centrally symmetric
    assert np.array_equal(m1[:, 1:], 1 - m1[:, :-1]) and np.array_equal(m1[1:], 1 - m1[:-1])
    # 7x7 cells of 2x2 patches cannot split evenly: 24 of 49 cells with phase 0
    assert m2.sum() == 24 * 4


@pytest.mark.parametrize('size,cell,stride,scale', [(128, 16, 16, 2), (128, 32, 16, 2),
                                                    (64, 32, 4, 2), (192, 16, 16, 3)])
def test_checkerboards_mask_exactly_half_on_even_cell_grids(size, cell, stride, scale):
    for phase in (False, True):
        m1, m2 = masks(size, cell, stride, scale, random_phase=phase)
        grid = size // stride
        assert m1.shape == m2.shape == (grid, grid)
        assert m1.sum() * 2 == grid * grid
        if (size // (cell * scale)) % 2 == 0:
            assert m2.sum() * 2 == grid * grid
        # constant inside a cell, alternating between neighbouring cells
        c1 = cell // stride
        assert np.array_equal(m1, np.kron(m1[::c1, ::c1], np.ones((c1, c1), np.int64)))


def test_random_phase_draws_both_phases_and_bad_settings_name_the_key():
    np.random.seed(0)
    firsts = {int(masks(random_phase=True)[0][0, 0]) for _ in range(20)}
    assert firsts == {0, 1}
    with pytest.raises(ValueError, match='mask_patch_size=24 is not divisible by '
                                         'model_patch_size=16'):
        CheckerboardMaskGenerator(224, 24, 16)
    with pytest.raises(ValueError, match='momentum_scale=0'):
        CheckerboardMaskGenerator(224, 16, 16, momentum_scale=0)
    with pytest.raises(ValueError, match='img.png is 100x100'):
        CheckerboardMaskGenerator(224)(dict(img=np.zeros((100, 100, 3), np.uint8),
                                            img_path='img.png'))


# ----------------------------------------------------------------------- SymMIM objective
def tiny_symmim(**kwargs):
    mlp = dict(type='NonLinearNeck', hid_channels=32, out_channels=16, with_bias=False,
               with_last_bn=True, with_last_bn_affine=False, norm_cfg=dict(type='BN1d'))
    return MODELS.build(dict(
        type='SymMIM',
        data_preprocessor=dict(type='MaskedImageDataPreprocessor', mean=[127.5] * 3,
                               std=[64.0] * 3),
        backbone=dict(type='MIMResNet', depth=18, mask_stage=3, mask_gamma_init=1e-6),
        neck=dict(type='PixelShuffleDecoder', in_channels=512, encoder_stride=32),
        head=dict(type='A2MIMHead', loss=dict(type='MaskedReconstructionLoss')),
        projector=dict(mlp, in_channels=512, num_layers=2, with_avg_pool=True),
        contrast_head=dict(type='MoCoV3Head',
                           predictor=dict(mlp, in_channels=16, num_layers=2,
                                          with_avg_pool=False),
                           loss=dict(type='CrossEntropyLoss', loss_weight=2 * 0.2),
                           temperature=0.2),
        **kwargs))


def test_ema_update_follows_the_cosine_momentum_formula():
    max_iters, start, end = 8, 0.01, 0.001
    MessageHub.get_current_instance().update_info('max_iters', max_iters)
    model = tiny_symmim(momentum=start, end_momentum=end)
    online = torch.nn.Sequential(model.backbone, model.projector)
    ema = model.momentum_encoder
    ema.update_parameters(online)  # step 0 copies the online weights
    key = 'module.0.conv1.weight'
    expected = model.backbone.conv1.weight.detach().clone().double()
    assert torch.equal(dict(ema.named_parameters())[key], model.backbone.conv1.weight)
    for step in (1, 2, 3):
        with torch.no_grad():
            model.backbone.conv1.weight.add_(torch.randn_like(model.backbone.conv1.weight))
        ema.update_parameters(online)
        rate = end - (end - start) * (math.cos(math.pi * step / max_iters) + 1) / 2
        expected = (1 - rate) * expected + rate * model.backbone.conv1.weight.detach().double()
        assert torch.allclose(dict(ema.named_parameters())[key].double(), expected, atol=1e-6)


def test_info_nce_matches_an_independent_computation():
    model = tiny_symmim()
    model.eval()
    torch.manual_seed(1)
    online, momentum = torch.randn(6, 16), torch.randn(6, 16)
    loss = model.contrast_head.loss(online, momentum)
    with torch.no_grad():
        q = model.contrast_head.predictor([online])[0].double().numpy()
    k = momentum.double().numpy()
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    k /= np.linalg.norm(k, axis=1, keepdims=True)
    logits = q @ k.T / 0.2
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = 2 * 0.2 * -np.mean(np.diag(log_softmax))
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_symmim_losses_use_each_mask_in_its_branch():
    MessageHub.get_current_instance().update_info('max_iters', 10)
    model = tiny_symmim(contrast_weight=0.5)
    model.eval()
    samples = []
    m1, m2 = masks(64, 16, 16, 2)
    for _ in range(4):
        sample = DataSample().set_mask(torch.from_numpy(m1))
        sample.set_field(m2, 'momentum_mask')
        samples.append(sample)
    data = model.data_preprocessor(
        dict(inputs=torch.randint(0, 256, (4, 3, 64, 64), dtype=torch.uint8),
             data_samples=samples), True)
    seen = {}

    def record(name):
        def hook(_, args):
            seen.setdefault(name, args[1].clone())
        return hook

    model.momentum_encoder.module[0].mask_mixer.register_forward_pre_hook(record('momentum'))
    model.backbone.mask_mixer.register_forward_pre_hook(record('online'))
    with torch.no_grad():
        losses = model(**data, mode='loss')
    assert torch.equal(seen['online'][0], torch.from_numpy(m1))
    assert torch.equal(seen['momentum'][0], torch.from_numpy(m2))
    encoder_input, target, _ = data['inputs']
    mask = torch.stack([s.mask for s in samples])
    with torch.no_grad():
        features = model.backbone(encoder_input, mask)
        rec = model.head.loss(model.neck(features), target, mask)['loss_rec']
        momentum = model.momentum_encoder.module[1](model.momentum_encoder.module[0](
            model.momentum_input(target, torch.from_numpy(np.stack([m2] * 4))),
            torch.from_numpy(np.stack([m2] * 4))))[0]
        con = model.contrast_head.loss(model.projector(features)[0], momentum)
    assert losses['loss_rec'].item() == pytest.approx(rec.item(), rel=1e-5)
    assert losses['loss_con'].item() == pytest.approx(0.5 * con.item(), rel=1e-5)


# ------------------------------------------------------------------------------ MixMIM
def test_mixmim_tokens_come_from_exactly_one_image():
    cfg = load('configs/mixmim_mixmim-base_300e.py')
    reduce_model(cfg)
    model = MODELS.build(cfg.model)
    model.eval()
    backbone = model.backbone
    images = torch.randn(4, 3, 224, 224)
    seen = {}

    def record(_, args):
        seen.setdefault('x', args[0])

    backbone.layers[0].register_forward_pre_hook(record)
    with torch.no_grad():
        backbone(images, mask=True)
        own = backbone.patch_embed(images)[0] + backbone.absolute_pos_embed
        other = backbone.patch_embed(images.flip(0))[0] + backbone.absolute_pos_embed
    mixed = seen['x']
    from_own = torch.isclose(mixed, own, atol=1e-6).all(-1)
    from_other = torch.isclose(mixed, other, atol=1e-6).all(-1)
    assert torch.all(from_own ^ from_other)  # each token from exactly one source image
    assert torch.equal(from_other, from_other[:1].expand_as(from_other))  # one batch mask
    # ratio 0.5 on the 7x7 grid: int(49 * 0.5) = 24 cells of 8x8 stride-4 tokens
    assert from_other[0].sum().item() == 24 * 64


def test_mixmim_fine_tune_config_loads_the_extracted_backbone(tmp_path):
    from mim_agnostic.utils.backbone_export import export_backbone
    cfg = load('configs/mixmim_mixmim-base_300e.py')
    torch.manual_seed(0)
    pretrain = MODELS.build(cfg.model)
    torch.save(dict(state_dict=pretrain.state_dict()), tmp_path / 'mixmim.pth')
    arch = export_backbone(str(tmp_path / 'mixmim.pth'), str(tmp_path / 'backbone.pth'))
    assert arch == dict(family='mixmim', embed_dims=128, depths=[2, 2, 18, 2],
                        num_heads=[4, 8, 16, 32])
    ft = Config.fromfile(osp.join(
        REPO_ROOT, 'configs/downstream/mmpretrain/mixmim-base_mixmim-ft_8xb128-100e_in1k.py'))
    ft.model.backbone.init_cfg.checkpoint = str(tmp_path / 'backbone.pth')
    classifier = MODELS.build(ft.model)
    classifier.init_weights()
    pretrained = pretrain.backbone.state_dict()
    loaded = classifier.backbone.state_dict()
    assert set(loaded) == set(pretrained)
    assert all(torch.equal(loaded[k], pretrained[k]) for k in loaded)
    n_params = sum(p.numel() for p in classifier.parameters()) / 1e6
    assert n_params == pytest.approx(88.34, abs=0.05)  # mmpretrain's MixMIM-B README


def test_momentum_encoder_matches_cosine_ema_and_resumes_its_schedule():
    from mmpretrain.models.utils import CosineEMA
    from mim_agnostic.models.utils import MomentumEncoder
    MessageHub.get_current_instance().update_info('max_iters', 8)
    torch.manual_seed(0)
    online = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4))
    ours, reference = MomentumEncoder(online, 0.05, 0.01), CosineEMA(online, 0.05, 0.01)

    def step(*encoders):
        with torch.no_grad():
            online[0].weight.add_(torch.randn(4, 4))
            online[1].running_mean.add_(1.0)
        for encoder in encoders:
            encoder.update_parameters(online)

    for _ in range(4):
        step(ours, reference)
        for a, b in zip(ours.module.state_dict().values(), reference.module.state_dict().values()):
            assert torch.allclose(a, b, atol=1e-6)
    resumed = MomentumEncoder(torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4)),
                              0.05, 0.01)
    resumed.load_state_dict(ours.state_dict())
    step(ours, resumed)
    assert int(resumed.steps) == 5
    assert torch.equal(resumed.module[0].weight, ours.module[0].weight)
