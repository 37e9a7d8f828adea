"""Analysis tools: the Fourier and interaction estimators against closed forms, taps on any
backbone, bad requests, and both tools end to end on a demo checkpoint."""
import math

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch import nn

from mim_agnostic.analysis import (FeatureTaps, check_request, class_score, default_taps,
                                   diagonal_profile, fourier_features, image_interactions,
                                   mean_log_amplitude, multi_order_interaction, tap_features)
from mim_agnostic.analysis.fourier_features import EPS
from mim_agnostic.analysis.interaction_order import masked_images, sample_contexts
from mim_agnostic.registry import MODELS

VIT_TINY = dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=96)
SWIN_TINY = dict(embed_dims=24, depths=[2, 2, 2], num_heads=[1, 2, 4])


def checkerboard(size: int) -> torch.Tensor:
    """(-1)^(x+y): all its energy at frequency (pi, pi)."""
    idx = torch.arange(size)
    return (-1.0)**(idx[:, None] + idx[None, :])


# ---------------------------------------------------------------- Fourier: closed forms

def test_constant_map_has_only_the_dc_term():
    maps = torch.full((2, 3, 8, 8), 2.0)
    freqs, delta = diagonal_profile(mean_log_amplitude(maps))
    assert freqs == [0.0, 0.25, 0.5, 0.75, 1.0]
    high = math.log(EPS) - math.log(2.0 * 64 + EPS)  # amplitude 0 -> the epsilon floor
    assert delta[0] == 0.0
    assert delta[1:] == pytest.approx([high] * 4, abs=1e-9)


def test_checkerboard_has_all_its_energy_at_pi():
    maps = checkerboard(8).expand(1, 2, 8, 8)
    _, delta = diagonal_profile(mean_log_amplitude(maps))
    assert delta[-1] == pytest.approx(math.log(64 + EPS) - math.log(EPS), abs=1e-9)
    assert delta[1:-1] == pytest.approx([0.0] * 3, abs=1e-6)


def test_dc_plus_nyquist_gives_the_log_ratio_averaged_over_channels_in_log_space():
    # channel c: a_c + b_c (-1)^(x+y): |F(0)| = 64 a_c, |F(pi)| = 64 b_c
    a, b = torch.tensor([2.0, 1.0]), torch.tensor([0.5, 4.0])
    maps = (a[:, None, None] + b[:, None, None] * checkerboard(8))[None]
    _, delta = diagonal_profile(mean_log_amplitude(maps))
    expected = np.mean(np.log(b.numpy() / a.numpy()))  # log then mean (Park & Kim)
    assert delta[-1] == pytest.approx(expected, abs=1e-6)
    assert expected != pytest.approx(math.log(b.mean() / a.mean()))  # the order matters


class TwoStageNet(nn.Module):
    """stages.0 passes the image, stages.1 averages 2x2 blocks (kills the checkerboard)."""

    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([nn.Identity(), nn.AvgPool2d(2)])

    def forward(self, x):
        outs = []
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        return tuple(outs)


def test_fourier_features_over_batches_matches_the_closed_form_per_tap():
    images = 3.0 + 0.75 * checkerboard(16).expand(5, 3, 16, 16)
    net = TwoStageNet()
    taps = default_taps(net)
    assert taps == ['stages.0', 'stages.1']
    result = fourier_features(net, [images[:2], images[2:]], taps, num_images=4,
                              show_progress=False)
    assert result['num_images'] == 4 and result['depth'] == [0.5, 1.0]
    assert result['high_frequency'][0] == pytest.approx(math.log(0.25), abs=1e-6)
    assert result['high_frequency'][1] == pytest.approx(
        math.log(EPS) - math.log(3.0 * 64 + EPS), abs=1e-4)
    assert result['frequency']['stages.1'] == [0.0, 0.25, 0.5, 0.75, 1.0]


# ---------------------------------------------------------------- taps on any backbone

@pytest.mark.parametrize('backbone,taps,shapes', [
    (dict(type='MIMResNet', depth=18, out_indices=(3, )), None,
     {'layer1': (64, 16), 'layer2': (128, 8), 'layer3': (256, 4), 'layer4': (512, 2)}),
    (dict(type='MIMViT', arch=VIT_TINY, img_size=64, patch_size=16), ['layers.0', 1],
     {'layers.0': (48, 4), 'layers.1': (48, 4)}),
    (dict(type='ConvNeXt', arch='atto'), [3, 'stages.1.0'],
     {'stages.3': (320, 2), 'stages.1.0': (80, 8)}),
    (dict(type='SwinTransformer', arch=SWIN_TINY, img_size=64, window_size=2,
          out_indices=(2, )), [1], {'stages.1': (48, 8)}),  # a stage's output: before merging
])
def test_taps_give_nchw_maps_at_stage_indices_and_module_paths(backbone, taps, shapes):
    model = MODELS.build(backbone)
    model.eval()
    taps = taps if taps is not None else default_taps(model)
    maps = tap_features(model, torch.randn(2, 3, 64, 64), taps)
    assert {path: (m.shape[1], m.shape[-1]) for path, m in maps.items()} == shapes
    assert all(m.shape[0] == 2 and m.shape[-2] == m.shape[-1] for m in maps.values())


def test_vit_tap_drops_the_cls_token_and_keeps_the_patch_grid():
    vit = MODELS.build(dict(type='VisionTransformer', arch=VIT_TINY, img_size=64,
                            patch_size=16))
    vit.eval()
    tokens = {}
    handle = vit.layers[0].register_forward_hook(lambda m, a, out: tokens.update(x=out))
    maps = tap_features(vit, torch.randn(1, 3, 64, 64), [0])['layers.0']
    handle.remove()
    assert tokens['x'].shape == (1, 17, 48)
    assert torch.equal(maps[0, :, 1, 2], tokens['x'][0, 1 + 1 * 4 + 2])


def test_per_block_taps():
    resnet = MODELS.build(dict(type='ResNet', depth=18))
    assert default_taps(resnet, per_block=True) == [
        'layer1.0', 'layer1.1', 'layer2.0', 'layer2.1', 'layer3.0', 'layer3.1', 'layer4.0',
        'layer4.1']
    swin = MODELS.build(dict(type='SwinTransformer', arch=SWIN_TINY, out_indices=(2, )))
    assert default_taps(swin, per_block=True)[:3] == ['stages.0.blocks.0', 'stages.0.blocks.1',
                                                      'stages.1.blocks.0']



def test_any_mim_backbone_is_tapped_by_the_wrapped_backbones_names(tmp_path):
    from mim_agnostic.analysis.loading import load_backbone
    config = tmp_path / 'any.py'
    config.write_text("model = dict(data_preprocessor=dict(mean=[0, 0, 0], std=[1, 1, 1]), "
                      "backbone=dict(type='AnyMIMBackbone', mask_at=2, probe_size=64, "
                      "backbone=dict(type='ResNet', depth=18)))")
    backbone, _ = load_backbone(str(config), None)
    assert type(backbone).__name__ == 'ResNet'
    assert default_taps(backbone) == ['layer1', 'layer2', 'layer3', 'layer4']


def test_a_stage_that_does_not_exist_lists_the_valid_choices():
    resnet = MODELS.build(dict(type='MIMResNet', depth=18))
    with pytest.raises(ValueError, match=r"stage='layer9': MIMResNet has no such module; "
                                         r"valid choices: stage indices 0..3 \['layer1', "
                                         r"'layer2', 'layer3', 'layer4'\].*'layer4.1'"):
        FeatureTaps(resnet, ['layer1', 'layer9'])
    with pytest.raises(ValueError, match=r'stage=4: MIMResNet has 4 stages'):
        FeatureTaps(resnet, [4])
    with pytest.raises(ValueError, match='name the same module twice'):
        FeatureTaps(resnet, [0, 'layer1'])


# ---------------------------------------------------------------- J(m): closed forms

def patch_means(images: torch.Tensor, grid: int) -> torch.Tensor:
    """(K, 3, H, W) -> (K, G*G) mean of each patch over its pixels and channels."""
    return nn.functional.adaptive_avg_pool2d(images.mean(1), grid).flatten(1)


def zero_mean_image(grid: int, size: int, seed: int) -> torch.Tensor:
    """Random patch values with zero per-channel mean: the mean baseline is 0."""
    g = torch.Generator().manual_seed(seed)
    patches = torch.randn(3, grid, grid, generator=g)
    image = patches.repeat_interleave(size // grid, 1).repeat_interleave(size // grid, 2)
    return image - image.mean(dim=(1, 2), keepdim=True)


def test_masked_patches_take_the_image_mean_and_kept_patches_stay():
    image = torch.rand(3, 8, 8)
    keep = torch.zeros(1, 4, dtype=torch.bool)
    keep[0, 1] = True  # top-right 4x4 patch of a 2x2 grid
    out = masked_images(image, keep, 2)[0]
    assert torch.equal(out[:, :4, 4:], image[:, :4, 4:])
    mean = image.mean(dim=(1, 2))
    assert torch.allclose(out[:, 4:, :4], mean[:, None, None].expand(3, 4, 4))


def test_pairwise_products_give_the_same_interaction_at_every_order():
    grid, n = 4, 16
    weights = torch.randn(n, n, generator=torch.Generator().manual_seed(1)).triu(1)

    def model(images):  # class 0: sum_{k<l} w_kl a_k a_l; class 1: 0
        a = patch_means(images, grid)
        logit = torch.einsum('kl,bk,bl->b', weights, a, a)
        return torch.stack([logit, torch.zeros_like(logit)], dim=1)

    image = zero_mean_image(grid, 16, seed=0)
    a = patch_means(image[None], grid)[0]
    pairs = torch.tensor([[0, 5], [3, 12], [7, 8]])
    orders = [0, 3, 7, 14]
    score = lambda x: class_score(model(x), torch.zeros(len(x), dtype=torch.long), 'logit')
    inter = image_interactions(score, image, grid, pairs, orders, num_contexts=5,
                               generator=torch.Generator().manual_seed(0), batch_size=17)
    expected = torch.stack([weights[i, j] * a[i] * a[j] for i, j in pairs.tolist()])
    assert torch.allclose(inter, expected.double().expand(4, 3), atol=1e-5)


def test_a_triple_product_interacts_only_through_the_third_patch():
    grid, n = 3, 9
    p, q, r = 1, 4, 6

    def model(images):  # f = a_p a_q a_r
        a = patch_means(images, grid)
        logit = a[:, p] * a[:, q] * a[:, r]
        return torch.stack([logit, torch.zeros_like(logit)], dim=1)

    image = zero_mean_image(grid, 12, seed=3)
    a = patch_means(image[None], grid)[0]
    product = float(a[p] * a[q] * a[r])
    score = lambda x: class_score(model(x), torch.zeros(len(x), dtype=torch.long), 'logit')
    orders, contexts = [0, 2, 4, 7], 400
    inter = image_interactions(score, image, grid, torch.tensor([[p, q], [p, 2]]), orders,
                               contexts, torch.Generator().manual_seed(0), batch_size=512)
    for o, m in enumerate(orders):  # I^(m)(p, q) = P(r in S) a_p a_q a_r, P = m / (n - 2)
        chance = m / (n - 2)
        tolerance = 4 * math.sqrt(chance * (1 - chance) / contexts) * abs(product) + 1e-6
        assert float(inter[o, 0]) == pytest.approx(chance * product, abs=tolerance)
    assert float(inter[0, 0]) == pytest.approx(0.0, abs=1e-6)  # m = 0: r never in S
    assert float(inter[-1, 0]) == pytest.approx(product, rel=1e-5)  # m = n - 2: always
    assert torch.allclose(inter[:, 1], torch.zeros(4, dtype=torch.double), atol=1e-7)


def test_contexts_are_m_patches_without_the_pair():
    contexts = sample_contexts(16, torch.tensor([2, 9]), 5, 7, torch.Generator().manual_seed(0))
    assert contexts.shape == (7, 16) and (contexts.sum(1) == 5).all()
    assert not contexts[:, [2, 9]].any()
    assert len(sample_contexts(16, torch.tensor([2, 9]), 14, 7, torch.Generator())) == 1


def test_log_odds_score_is_log_p_over_one_minus_p():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
    labels = torch.tensor([0, 2])
    p = torch.softmax(logits, 1)[torch.arange(2), labels].numpy()
    assert class_score(logits, labels).numpy() == pytest.approx(np.log(p / (1 - p)), abs=1e-6)
    assert class_score(logits, labels, 'logit').tolist() == [2.0, 3.0]


def test_constant_pairwise_interaction_gives_flat_j_and_the_known_strength():
    grid, weight = 4, 0.3

    def model(images):  # every pair interacts with weight w; |a_k| = 1 for every patch
        a = patch_means(images, grid)
        logit = weight * (a.sum(1)**2 - (a**2).sum(1)) / 2
        return torch.stack([logit, -logit], dim=1)

    signs = checkerboard(grid)  # +-1 patches, zero mean per channel
    images = signs.repeat_interleave(4, 0).repeat_interleave(4, 1).expand(2, 3, 16, 16)
    result = multi_order_interaction(model, [(images, torch.tensor([0, 0]))], grid,
                                     ratios=[0.0, 0.5, 1.0], num_images=2, num_pairs=6,
                                     num_contexts=3, score='logit', image_size=(16, 16),
                                     show_progress=False)
    assert result['orders'] == [0, 7, 14]
    assert result['strength'] == pytest.approx([weight] * 3, abs=1e-5)
    assert result['J'] == pytest.approx([1.0] * 3, abs=1e-5)
    assert result['J_sem'] == pytest.approx([0.0] * 3, abs=1e-5)  # every |I| is the same


def test_j_is_normalised_by_the_mean_over_orders_with_its_standard_error():
    from mim_agnostic.analysis import interaction_strength
    # 2 images x 2 orders x 2 pairs: order 0 |I| = 1, 3, 1, 3; order 1 |I| = 2 everywhere
    inter = torch.tensor([[[1.0, -3.0], [2.0, 2.0]], [[-1.0, 3.0], [-2.0, 2.0]]])
    result = interaction_strength(inter)
    assert result['strength'] == [2.0, 2.0] and result['J'] == [1.0, 1.0]
    assert result['J_sem'] == pytest.approx([np.std([1, 3, 1, 3], ddof=1) / 2 / 2, 0.0])


@pytest.mark.parametrize('kwargs,message', [
    (dict(num_pairs=121), r'--num-pairs 121: a 4x4 grid has n = 16 patches and only '
                          r'n\(n-1\)/2 = 120 pairs'),
    (dict(ratios=[0.5, 1.2]), r'--orders \[1.2\]: .* at most n - 2 = 14 context patches'),
    (dict(grid=5), r'--grid 5 does not tile the 16x16 input'),
    (dict(num_contexts=0), r'--num-contexts 0'),
])
def test_requests_that_cannot_be_met_fail_before_any_forward_pass(kwargs, message):
    calls = []
    request = {**dict(grid=4, ratios=[0.0, 1.0], num_pairs=3, num_contexts=2), **kwargs}
    with pytest.raises(ValueError, match=message):
        multi_order_interaction(lambda x: calls.append(x), [], image_size=(16, 16),
                                show_progress=False, **request)
    assert calls == []
    assert check_request(4, (16, 16), [0.0, 0.29, 1.0], 120, 1) == [0, 4, 14]


# ---------------------------------------------------------------- the tools end to end

CLASSIFIER = """
default_scope = 'mim_agnostic'
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=4, to_rgb=True,
                           mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
    backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=4, in_channels=512,
              loss=dict(type='CrossEntropyLoss')))
test_pipeline = [dict(type='CenterCrop', crop_size=64)]  # the size the tools default to
"""


@pytest.fixture(scope='module')
def classifiers(tmp_path_factory):
    """(config, checkpoint) of two random ResNet-18 classifiers: a hand-written mmpretrain
    ImageClassifier, and one exported by the evaluation (`--save-classifier`: MIMResNet,
    FeaturePool, folded linear probe) from the A²MIM demo config."""
    from mmengine.config import Config

    from mim_agnostic.evaluation import FeatureExtractor, LinearProbe, save_classifier
    root = tmp_path_factory.mktemp('classifiers')
    config = root / 'classifier.py'
    config.write_text(CLASSIFIER)
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(config)).model)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict()), str(root / 'classifier.pth'))
    from conftest import REPO_ROOT
    cfg = Config.fromfile(f'{REPO_ROOT}/configs/demo/a2mim_r50_demo.py')
    cfg.merge_from_dict({'model.backbone.depth': 18})
    g = torch.Generator().manual_seed(1)
    probe = LinearProbe(mean=torch.randn(512, generator=g), std=torch.rand(512, generator=g) + 0.5,
                        weight=torch.randn(4, 512, generator=g), bias=torch.zeros(4))
    exported = save_classifier(str(root / 'exported'), FeatureExtractor(cfg), probe,
                               classes=list('abcd'), image_size=64, meta={})
    return [(str(config), str(root / 'classifier.pth')), exported]


def load_tool(name):
    import importlib.util
    from conftest import REPO_ROOT
    spec = importlib.util.spec_from_file_location(name, f'{REPO_ROOT}/tools/analysis/{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fourier_tool_writes_one_figure_for_a_classifier_and_a_random_pretraining_config(
        demo_root, classifiers, tmp_path):
    import json
    import os.path as osp

    import matplotlib.image
    from conftest import REPO_ROOT, run
    config, checkpoint = classifiers[0]
    pretrain = osp.join(REPO_ROOT, 'configs/demo/a2mim_r50_demo.py')
    run(['python', 'tools/analysis/fourier_features.py', '--model', 'r18', config, checkpoint,
         '--model', 'r50-random', pretrain, '--data-root', osp.join(demo_root, 'imagenet'),
         '--num-images', '3', '--batch-size', '2', '--image-size', '64', '--num-workers', '0',
         '--spectra', '--out-dir', str(tmp_path)], timeout=300)
    result = json.loads((tmp_path / 'fourier_features.json').read_text())
    assert list(result['models']) == ['r18', 'r50-random']
    for model in result['models'].values():
        assert model['taps'] == ['layer1', 'layer2', 'layer3', 'layer4']
        assert model['num_images'] == 3 and model['depth'] == [0.25, 0.5, 0.75, 1.0]
        assert model['frequency']['layer4'] == [0.0, 1.0]  # 2x2 map at 64 px
        assert model['high_frequency'] == [model['delta_log_amplitude'][tap][-1]
                                           for tap in model['taps']]
        assert all(math.isfinite(v) and v < 0 for v in model['high_frequency'])
    for png in ('fourier_features.png', 'fourier_spectra.png'):
        assert matplotlib.image.imread(str(tmp_path / png)).shape[-1] in (3, 4)


def test_interaction_tool_writes_j_of_a_plain_and_an_exported_classifier(demo_root, classifiers,
                                                                         tmp_path):
    import json
    import os.path as osp

    import matplotlib.image
    from conftest import run
    (config, checkpoint), exported = classifiers
    run(['python', 'tools/analysis/interaction_order.py', '--model', 'plain', config,
         checkpoint, '--model', 'exported', *exported,
         '--data-root', osp.join(demo_root, 'imagenet'), '--grid', '4', '--num-images', '1',
         '--num-pairs', '3', '--num-contexts', '2', '--orders', '0', '0.5', '1',
         '--num-workers', '0', '--out-dir', str(tmp_path)], timeout=300)
    result = json.loads((tmp_path / 'interaction_order.json').read_text())
    assert result['settings']['score'] == 'log_odds'
    for model in result['models'].values():
        assert model['orders'] == [0, 7, 14] and model['num_images'] == 1
        assert np.mean(model['J']) == pytest.approx(1.0)
        assert model['J'] == pytest.approx([s / np.mean(model['strength'])
                                            for s in model['strength']])
    assert result['models']['plain']['J'] != result['models']['exported']['J']
    assert matplotlib.image.imread(str(tmp_path / 'interaction_order.png')).ndim == 3


def test_tools_refuse_bad_requests_before_reading_images(classifiers, tmp_path):
    config, checkpoint = classifiers[0]
    common = ['--data-root', str(tmp_path / 'nothing'), '--out-dir', str(tmp_path)]
    interaction = load_tool('interaction_order')
    with pytest.raises(ValueError, match=r'--num-pairs 200: a 4x4 grid .* only .* = 120 pairs'):
        interaction.main(['--model', 'a', config, checkpoint, '--grid', '4',
                          '--num-pairs', '200', *common])
    fourier = load_tool('fourier_features')
    with pytest.raises(ValueError, match=r"stage='layer9': ResNet has no such module; valid "
                                         r"choices: stage indices 0..3 \['layer1'"):
        fourier.main(['--model', 'a', config, checkpoint, '--stages', '1', 'layer9', *common])
    assert not (tmp_path / 'fourier_features.json').exists()


def test_a_classifier_checkpoint_that_does_not_fit_names_the_keys(tmp_path):
    """Missing, unexpected and mis-shaped weights are errors, not a random head."""
    from mim_agnostic.analysis.loading import load_classifier
    config = tmp_path / 'classifier.py'
    config.write_text(
        "default_scope = 'mim_agnostic'\n"
        "model = dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=18),\n"
        "             neck=dict(type='GlobalAveragePooling'),\n"
        "             head=dict(type='LinearClsHead', num_classes=3, in_channels=512))\n")
    init_default_scope('mim_agnostic')
    model = MODELS.build(Config.fromfile(str(config)).model)
    weights = model.state_dict()
    good = tmp_path / 'good.pth'
    torch.save(dict(state_dict=weights), good)
    assert load_classifier(str(config), str(good)).head.fc.weight.shape == (3, 512)
    bad = dict(weights, extra=torch.zeros(1))
    del bad['head.fc.bias']
    bad['head.fc.weight'] = torch.zeros(4, 512)
    torch.save(dict(state_dict=bad), tmp_path / 'bad.pth')
    with pytest.raises(ValueError, match=r"missing \['head.fc.bias'\], unexpected \['extra'\], "
                                         r"mis-shaped \['head.fc.weight'\]"):
        load_classifier(str(config), str(tmp_path / 'bad.pth'))
