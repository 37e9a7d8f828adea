"""Per-parameter lr / weight decay of the CNN recipes against the reference configs' rules
(openmixup configs/selfsup/a2mim/imagenet/*.py ``optimizer.paramwise_options``), the regex
constructor's semantics, and tools/print_param_groups.py."""
import importlib.util
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from torch import nn

from mim_agnostic.engine.optimizers import (RegexParamwiseOptimWrapperConstructor,
                                            param_settings, param_settings_of_config)
from conftest import REPO_ROOT

BASE_LR, BASE_WD = 1.2e-3, 0.05

# paramwise_options of the reference configs, copied as written there
# (r50_l3_sz224_init_8xb256_cos_ep300.py; r101/r152/r200 identical)
REFERENCE_EP300 = {
    r'(bn|ln|gn)(\d+)?.(weight|bias)': dict(weight_decay=0.),
    'bias': dict(weight_decay=0.),
    'mask_token': dict(weight_decay=0., lr_mult=1e-1),
}
# r50_l3_sz224_init_8xb256_cos_ep100.py
REFERENCE_EP100 = {**REFERENCE_EP300, 'mask_gamma': dict(weight_decay=0., lr_mult=1e-1)}


def settings_of(config, **cfg_options):
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    cfg.merge_from_dict(cfg_options)
    settings, base = param_settings_of_config(cfg)
    return {s.name: s for s in settings}, base


def lr_wd(setting):
    return setting.lr, setting.weight_decay


# --- the rule itself -----------------------------------------------------------------------

def reference_options(name, rules, lr=BASE_LR, wd=BASE_WD):
    """openmixup's build_optimizer loop: every matching regex in order, '_mult' x base."""
    group = dict(lr=lr, weight_decay=wd)
    for regex, options in rules.items():
        if re.search(regex, name):
            for key, value in options.items():
                if key.endswith('_mult'):
                    key, value = key[:-5], dict(lr=lr, weight_decay=wd)[key[:-5]] * value
                group[key] = value
    return group['lr'], group['weight_decay']


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(2)
        self.conv = nn.Conv2d(2, 2, 1)
        self.mask_token = nn.Parameter(torch.zeros(2))
        self.frozen_bias = nn.Parameter(torch.zeros(2), requires_grad=False)


def build_toy(rules, **optimizer):
    optimizer = dict(type='AdamW', lr=1.0, weight_decay=0.5, **optimizer)
    constructor = RegexParamwiseOptimWrapperConstructor(dict(optimizer=optimizer),
                                                        dict(rules=rules))
    model = Toy()
    return {s.name: lr_wd(s) for s in param_settings(model, constructor(model).optimizer)}


def test_every_matching_rule_applies_in_order_and_mults_scale_the_base():
    groups = build_toy([
        ('bias', dict(weight_decay=0.1, lr_mult=0.5)),
        (r'bn\d', dict(lr_mult=2.0)),              # bn1.bias: lr from here, wd from 'bias'
        ('mask_token', dict(lr_mult=0.1, weight_decay_mult=0.0)),
        ('token', dict(lr_mult=0.3)),              # later: overrides the lr only, x base
        ('conv.weight', dict(lr=0.25)),            # an absolute value
    ])
    assert groups == {
        'bn1.weight': (2.0, 0.5),
        'bn1.bias': (2.0, 0.1),
        'conv.weight': (0.25, 0.5),
        'conv.bias': (0.5, 0.1),
        'mask_token': (pytest.approx(0.3), 0.0),
        'frozen_bias': (1.0, 0.5),               # frozen: base, whatever matches
    }


@pytest.mark.parametrize('paramwise_cfg, message', [
    (dict(rules=[('(bn', dict(weight_decay=0.))]),
     "paramwise_cfg.rules[0] '(bn': not a regular expression"),
    (dict(rules=[('bias', dict(weight_decay=0.)), ('x', dict(decay_mult=0.))]),
     "rules[1] 'x': 'decay_mult' multiplies optimizer.decay, which optim_wrapper.optimizer "
     'does not set'),
    (dict(rules=[('bias', dict(wight_decay=0.))]), "AdamW has no option 'wight_decay'"),
    (dict(rules=[('bias', dict(custom=dict(lr=0.)))]), "rules[0] 'bias': expected a dict"),
    (dict(rules=[dict(bias=dict(lr=0.))]), 'rules[0]: expected a (regex, options) pair'),
    (dict(rules=[], custom_keys={}), "takes only rules=[(regex, options), ...], got "
     "['custom_keys']"),
])
def test_bad_rules_fail_naming_the_rule(paramwise_cfg, message):
    optimizer = dict(type='AdamW', lr=1.0, weight_decay=0.5)
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        RegexParamwiseOptimWrapperConstructor(dict(optimizer=optimizer), paramwise_cfg)


# --- the flagship against the reference ep300 config ---------------------------------------

def expected_r50_ep300(name):
    """The reference ep300 recipe written out by parameter role (ours names): no decay on
    every bias, on the stem BN weight and on the bn1/bn2/bn3 weights of every block (NOT the
    shortcut BN weights 'downsample.1.weight'); the token at lr x 0.1 without decay;
    everything else, mask_gamma included, at the base lr and wd."""
    if name == 'backbone.mask_mixer.mask_token':
        return BASE_LR * 0.1, 0.0
    if name.endswith('.bias') or re.fullmatch(
            r'backbone\.(bn1|layer[1-4]\.\d+\.bn[123])\.weight', name):
        return BASE_LR, 0.0
    return BASE_LR, BASE_WD


def test_flagship_gives_every_parameter_the_reference_ep300_lr_and_weight_decay():
    settings, base = settings_of('configs/a2mim_r50.py')
    assert base == dict(lr=BASE_LR, weight_decay=BASE_WD)
    assert len(settings) == 163  # 159 ResNet-50 tensors, token, gamma, decoder weight + bias
    for name, setting in settings.items():
        assert lr_wd(setting) == pytest.approx(expected_r50_ep300(name)), name
    # the two quirks, explicitly
    shortcut_bns = [f'backbone.layer{i}.0.downsample.1.weight' for i in range(1, 5)]
    for name in shortcut_bns:
        assert lr_wd(settings[name]) == (BASE_LR, BASE_WD), name
        assert lr_wd(settings[name.replace('weight', 'bias')]) == (BASE_LR, 0.0)
    gamma = settings['backbone.mask_mixer.mask_gamma']
    assert gamma.shape == (1, 1024, 1, 1) and lr_wd(gamma) == (BASE_LR, BASE_WD)
    assert lr_wd(settings['backbone.mask_mixer.mask_token']) == pytest.approx((1.2e-4, 0.0))
    decayed = [name for name, s in settings.items() if s.weight_decay]
    assert len(decayed) == 53 + 4 + 2  # conv weights, shortcut BN weights, predictor, gamma


REFERENCE_NAMES = {'backbone.mask_mixer.mask_token': 'backbone.mask_token',
                   'backbone.mask_mixer.mask_gamma': 'backbone.mask_gamma',
                   'neck.predictor.weight': 'neck.decoder_pred.0.weight',
                   'neck.predictor.bias': 'neck.decoder_pred.0.bias'}


@pytest.mark.parametrize('config, rules', [('configs/a2mim_r50.py', REFERENCE_EP300),
                                           ('configs/a2mim_r50_100e.py', REFERENCE_EP100)])
def test_reference_rules_on_reference_names_give_our_groups(config, rules):
    """Our names differ from openmixup's only for the token, gamma and decoder: the
    reference's loop run over its own names gives each of our tensors' settings."""
    settings, _ = settings_of(config)
    for name, setting in settings.items():
        reference = reference_options(REFERENCE_NAMES.get(name, name), rules)
        assert lr_wd(setting) == pytest.approx(reference), name


def test_ep100_config_puts_gamma_with_the_token_and_runs_100_epochs():
    settings, _ = settings_of('configs/a2mim_r50_100e.py')
    flagship, _ = settings_of('configs/a2mim_r50.py')
    for name in ('backbone.mask_mixer.mask_token', 'backbone.mask_mixer.mask_gamma'):
        assert lr_wd(settings[name]) == pytest.approx((1.2e-4, 0.0)), name
    changed = {name for name in settings if lr_wd(settings[name]) != lr_wd(flagship[name])}
    assert changed == {'backbone.mask_mixer.mask_gamma'}
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/a2mim_r50_100e.py'))
    assert cfg.train_cfg.max_epochs == 100
    warmup, cosine = cfg.param_scheduler
    assert (warmup.begin, warmup.end) == (0, 10)
    assert (cosine.begin, cosine.end, cosine.T_max, cosine.eta_min) == (10, 100, 90, 1e-5)


def test_r101_follows_its_reference_config():
    settings, _ = settings_of('configs/a2mim_r101.py')
    assert lr_wd(settings['backbone.layer3.22.bn2.weight']) == (BASE_LR, 0.0)
    assert lr_wd(settings['backbone.layer3.0.downsample.1.weight']) == (BASE_LR, BASE_WD)
    assert lr_wd(settings['backbone.mask_mixer.mask_gamma']) == (BASE_LR, BASE_WD)
    assert lr_wd(settings['backbone.mask_mixer.mask_token']) == pytest.approx((1.2e-4, 0.0))


def test_convnext_follows_its_reference_config():
    """convnext_t_l3_sz224_init_8xb256_cos_ep300.py: the norm regex matches no ConvNeXt
    name, so LayerNorm weights keep wd 0.05; biases and layer scales 'gamma' get none;
    token and gamma lr x 0.1 without decay."""
    settings, _ = settings_of('configs/a2mim_convnext-tiny.py')
    for name in ('backbone.downsample_layers.0.1.weight', 'backbone.downsample_layers.2.0.weight',
                 'backbone.stages.2.8.norm.weight', 'backbone.norm3.weight',
                 'backbone.stages.0.0.pointwise_conv1.weight'):
        assert lr_wd(settings[name]) == (BASE_LR, BASE_WD), name
    for name in ('backbone.stages.2.8.norm.bias', 'backbone.stages.0.0.gamma',
                 'backbone.stages.3.2.gamma', 'neck.predictor.bias'):
        assert lr_wd(settings[name]) == (BASE_LR, 0.0), name
    for name in ('backbone.mask_mixer.mask_token', 'backbone.mask_mixer.mask_gamma'):
        assert lr_wd(settings[name]) == pytest.approx((1.2e-4, 0.0)), name
    rules = {**REFERENCE_EP300, 'gamma': dict(weight_decay=0.),
             'mask_token': REFERENCE_EP300['mask_token'],
             'mask_gamma': dict(weight_decay=0., lr_mult=1e-1)}
    for name, setting in settings.items():
        reference = reference_options(REFERENCE_NAMES.get(name, name), rules)
        assert lr_wd(setting) == pytest.approx(reference), name


def test_simmim_r50_follows_the_reference_simmim_config():
    """simmim/imagenet/r50_sz224_8xb256_fp16_ep300.py: the token without decay at the
    full lr."""
    settings, _ = settings_of('configs/simmim_r50_300e.py')
    assert lr_wd(settings['backbone.mask_mixer.mask_token']) == (BASE_LR, 0.0)
    assert lr_wd(settings['backbone.layer1.0.downsample.1.weight']) == (BASE_LR, BASE_WD)


def test_poolformer_keeps_its_own_rules():
    """No reference config: every norm, bias and layer scale without decay."""
    settings, _ = settings_of('configs/a2mim_poolformer-s12.py')
    # mmpretrain's PoolFormer freezes its stem unless frozen_stages=-1: every tensor trains
    assert all(s.trained for s in settings.values()), \
        [name for name, s in settings.items() if not s.trained]
    assert lr_wd(settings['backbone.backbone.patch_embed.proj.weight']) == (BASE_LR, BASE_WD)
    for name in ('backbone.backbone.network.0.0.norm1.weight',
                 'backbone.backbone.network.0.0.layer_scale_1', 'neck.predictor.bias'):
        assert lr_wd(settings[name]) == (BASE_LR, 0.0), name
    for name in ('backbone.mask_mixer.mask_token', 'backbone.mask_mixer.mask_gamma'):
        assert lr_wd(settings[name]) == pytest.approx((1.2e-4, 0.0)), name


# --- the tool -------------------------------------------------------------------------------

def load_tool():
    spec = importlib.util.spec_from_file_location(
        'print_param_groups', osp.join(REPO_ROOT, 'tools', 'print_param_groups.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_print_param_groups_lists_the_flagship_groups(capsys):
    tool = load_tool()
    config = osp.join(REPO_ROOT, 'configs/a2mim_r50.py')
    assert tool.main([config]) == 0
    grouped = capsys.readouterr().out
    blocks = grouped.split('\n\n')
    full, no_decay, token = blocks[1:]
    assert full.startswith('[1] lr 0.0012 (x1), weight decay 0.05 (x1): 59 tensors')
    assert 'backbone.layer*.*.downsample.*.weight  1-D x4' in full
    assert 'backbone.mask_mixer.mask_gamma' in full
    assert no_decay.startswith('[2] lr 0.0012 (x1), weight decay 0 (x0): 103 tensors')
    assert token.startswith('[3] lr 0.00012 (x0.1), weight decay 0 (x0): 1 tensors')
    assert 'backbone.mask_mixer.mask_token' in token

    assert tool.main([config, '--all', '--cfg-options',
                      'optim_wrapper.optimizer.weight_decay=0.1']) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()
            if line.startswith(('backbone.', 'neck.'))}
    assert len(rows) == 163
    assert rows['backbone.layer2.0.downsample.1.weight'][-4:] == ['0.0012', '1', '0.1', '1']
    assert rows['backbone.layer2.0.bn1.weight'][-4:] == ['0.0012', '1', '0', '0']
    assert rows['backbone.mask_mixer.mask_token'][-4:] == ['0.00012', '0.1', '0', '0']

    assert tool.main(['configs/missing.py']) == 1
