"""The mask token changes exactly the masked positions at exactly the chosen stage, gets
gradients, and without a mask every MIM backbone is the plain mmpretrain backbone."""
import pytest
import torch
from mmpretrain.models.backbones import BEiTViT, ConvNeXt, ResNet

from mim_agnostic.models.backbones import MaskTokenMixer, MIMConvNeXt, MIMResNet, MIMViT

VIT_TINY = dict(embed_dims=64, num_layers=3, num_heads=4, feedforward_channels=128)


def in_eval(model):
    """mmpretrain backbones' train() returns None, so .eval() cannot be chained."""
    model.eval()
    return model


def capture_input(module):
    store = {}

    def hook(_, args):  # returns None: the inputs stay as they are
        store['x'] = args[0]

    return store, module.register_forward_pre_hook(hook)


def test_mixer_residual_and_replace_rules():
    x = torch.randn(2, 4, 3, 3)
    mask = torch.zeros(2, 3, 3, dtype=torch.long)
    mask[0, 1, 2] = 1
    residual = MaskTokenMixer(4, 'nchw', 'residual', mask_gamma_init=0.5)
    out = residual(x, mask)
    token = residual.mask_token.detach().view(4)
    assert torch.allclose(out[0, :, 1, 2], 0.5 * x[0, :, 1, 2] + token)
    keep = torch.ones_like(out, dtype=torch.bool)
    keep[0, :, 1, 2] = False
    assert torch.equal(out[keep], x[keep])
    replace = MaskTokenMixer(4, 'nchw', 'replace')
    assert torch.allclose(replace(x, mask)[0, :, 1, 2], replace.mask_token.detach().view(4))
    tokens = MaskTokenMixer(4, 'nlc', 'residual')
    seq = torch.randn(2, 9, 4)
    out = tokens(seq, mask)
    assert torch.allclose(out[0, 5], seq[0, 5] + tokens.mask_token.detach().view(4))
    assert torch.equal(out[1], seq[1])


def test_token_init_is_truncated_normal_002():
    torch.manual_seed(0)
    token = MaskTokenMixer(4096, 'nchw').mask_token
    assert token.shape == (1, 4096, 1, 1)
    assert token.std().item() == pytest.approx(0.02, rel=0.1)
    assert token.abs().max().item() <= 2.0  # truncated at +-2


@pytest.mark.parametrize('stage,channels,grid', [(0, 64, 16), (1, 256, 16), (2, 512, 8),
                                                 (3, 1024, 4)])
def test_resnet_token_changes_exactly_the_masked_positions_of_the_chosen_stage(
        stage, channels, grid):
    torch.manual_seed(0)
    model = in_eval(MIMResNet(depth=50, mask_stage=stage, mask_gamma_init=1e-6))
    assert model.mask_stride == 64 // grid
    layer = getattr(model, model.res_layers[stage])
    store, handle = capture_input(layer)
    x = torch.randn(1, 3, 64, 64)
    mask = torch.zeros(1, grid, grid, dtype=torch.long)
    mask[0, 0, 1] = mask[0, grid - 1, grid - 1] = 1
    with torch.no_grad():
        model(x)
        plain = store.pop('x')
        model(x, mask)
        mixed = store.pop('x')
    handle.remove()
    assert mixed.shape == (1, channels, grid, grid)
    changed = (mixed != plain).any(dim=1)[0]
    assert torch.equal(changed, mask[0].bool())
    token = model.mask_mixer.mask_token.view(-1)
    assert torch.allclose(mixed[0, :, 0, 1], 1e-6 * plain[0, :, 0, 1] + token)
    # earlier stages see nothing of the token
    if stage > 0:
        store, handle = capture_input(getattr(model, model.res_layers[stage - 1]))
        with torch.no_grad():
            model(x)
            before_plain = store.pop('x')
            model(x, mask)
        handle.remove()
        assert torch.equal(store['x'], before_plain)


def test_token_and_gamma_get_gradients():
    model = MIMResNet(depth=18, mask_stage=3, mask_gamma_init=1e-6)
    mask = torch.zeros(2, 4, 4, dtype=torch.long)
    mask[:, :2] = 1
    model(torch.randn(2, 3, 64, 64), mask)[-1].sum().backward()
    assert model.mask_mixer.mask_token.grad.abs().sum() > 0
    assert model.mask_mixer.mask_gamma.grad.abs().sum() > 0


def copy_into(plain, mim):
    missing, unexpected = mim.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected
    assert all(key.startswith('mask_mixer.') for key in missing)
    return mim


@pytest.mark.parametrize('depth', [18, 34, 50, 101, 152, 200])
def test_resnet_without_mask_is_the_plain_resnet(depth):
    torch.manual_seed(0)
    # mmpretrain's ResNet has no depth 200: the plain reference is ResNet with MIMResNet's table
    plain_cls = type('PlainResNet', (ResNet, ), {'arch_settings': MIMResNet.arch_settings})
    plain = in_eval(plain_cls(depth=depth, out_indices=(0, 3)))
    mim = in_eval(copy_into(plain, MIMResNet(depth=depth, out_indices=(0, 3), mask_stage=3)))
    assert set(plain.state_dict()) <= set(mim.state_dict())
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(plain(x), mim(x)):
            assert torch.equal(a, b)


@pytest.mark.parametrize('arch', ['tiny', 'small', 'base'])
def test_convnext_without_mask_is_the_plain_convnext(arch):
    torch.manual_seed(0)
    plain = in_eval(ConvNeXt(arch=arch, out_indices=(3, ), gap_before_final_norm=False))
    mim = in_eval(copy_into(plain, MIMConvNeXt(arch=arch, out_indices=(3, ),
                                               gap_before_final_norm=False, mask_stage=3)))
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(plain(x)[0], mim(x)[0])


def test_convnext_token_at_stage4_input():
    torch.manual_seed(0)
    model = in_eval(MIMConvNeXt(arch='tiny', out_indices=(3, ), mask_stage=3))
    assert model.mask_stride == 32 and model.mask_mixer.mask_token.shape == (1, 768, 1, 1)
    store, handle = capture_input(model.stages[3])
    x, mask = torch.randn(1, 3, 96, 96), torch.zeros(1, 3, 3, dtype=torch.long)
    mask[0, 1, 1] = 1
    with torch.no_grad():
        model(x)
        plain = store.pop('x')
        model(x, mask)
    handle.remove()
    assert torch.equal((store['x'] != plain).any(dim=1)[0], mask[0].bool())


@pytest.mark.parametrize('arch', ['small', 'base', 'large'])
def test_vit_archs_match_the_paper(arch):
    dims, depth = {'small': (768, 8), 'base': (768, 12), 'large': (1024, 24)}[arch]
    model = MIMViT(arch=arch, img_size=32, patch_size=16)
    assert (model.embed_dims, model.num_layers) == (dims, depth)


def test_vit_without_mask_is_the_plain_beit_vit():
    torch.manual_seed(0)
    kwargs = dict(arch=VIT_TINY, img_size=64, patch_size=16, out_type='featmap',
                  use_abs_pos_emb=True, use_rel_pos_bias=True, layer_scale_init_value=0.1,
                  final_norm=True)
    plain = in_eval(BEiTViT(**kwargs))
    mim = in_eval(copy_into(plain, MIMViT(mask_layer=0, **kwargs)))
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(plain(x)[0], mim(x)[0])
        assert mim(x)[0].shape == (2, 64, 4, 4)


@pytest.mark.parametrize('mask_layer', [0, 2])
def test_vit_token_goes_on_patch_tokens_at_the_chosen_layer(mask_layer):
    torch.manual_seed(0)
    model = in_eval(MIMViT(arch=VIT_TINY, img_size=64, patch_size=16, mask_layer=mask_layer))
    mask = torch.zeros(1, 4, 4, dtype=torch.long)
    mask[0, 2, 3] = 1
    x = torch.randn(1, 3, 64, 64)
    target = model.layers[0] if mask_layer == 0 else model.layers[mask_layer - 1]
    store, handle = capture_input(target)
    with torch.no_grad():
        model(x)
        plain = store.pop('x')
        model(x, mask)
    handle.remove()
    changed = (store['x'] != plain).any(dim=-1)[0]  # (1 + 16,) tokens, cls first
    expected = torch.zeros(17, dtype=torch.bool)
    expected[1 + 2 * 4 + 3] = True
    assert torch.equal(changed, expected)
    if mask_layer > 0:  # the token is added to the features entering block k, unchanged ones
        token = model.mask_mixer.mask_token.view(-1)
        assert torch.allclose(store['x'][0, 12], plain[0, 12] + token)


def test_mask_of_the_wrong_grid_names_the_shapes():
    model = MIMResNet(depth=18, mask_stage=3)
    with pytest.raises(ValueError, match=r'mask of shape \(1, 8, 8\).*model_patch_size'):
        model(torch.randn(1, 3, 64, 64), torch.zeros(1, 8, 8))
    with pytest.raises(ValueError, match='mask_stage=4'):
        MIMResNet(depth=18, mask_stage=4)


# ------------------------------------------------------------ A²MIM on any registered backbone
ANY_BACKBONES = [  # (backbone cfg, mask_at, module path, layout, stride, channels)
    (dict(type='SwinTransformer', arch='tiny', window_size=2, out_indices=(3, )),
     'stages.2', 'stages.2', 'nlc', 16, 384),
    (dict(type='SwinTransformer', arch='tiny', window_size=2, out_indices=(3, )),
     1, 'stages.1', 'nlc', 8, 192),
    (dict(type='PoolFormer', arch='s12', out_indices=(6, )), 'network.4', 'network.4', 'nchw',
     16, 320),
    (dict(type='RegNet', arch='regnetx_400mf'), 3, 'layer4', 'nchw', 16, 160),
]


def build_any(backbone, mask_at, **kwargs):
    from mim_agnostic.registry import MODELS
    return in_eval(MODELS.build(dict(type='AnyMIMBackbone', backbone=backbone, mask_at=mask_at,
                                     **kwargs)))


@pytest.mark.parametrize('backbone,mask_at,path,layout,stride,channels', ANY_BACKBONES)
def test_any_backbone_token_changes_exactly_the_masked_positions_at_the_named_module(
        backbone, mask_at, path, layout, stride, channels):
    torch.manual_seed(0)
    model = build_any(backbone, mask_at, mask_gamma_init=1e-6)
    assert (model.mask_at, model.mask_stride, model.mask_mixer.layout) == (path, stride, layout)
    assert model.mask_mixer.mask_token.numel() == channels
    modules = dict(model.backbone.named_modules())
    store, handle = capture_input(modules[path])  # runs after the token hook
    x = torch.randn(1, 3, 64, 64)
    grid = 64 // stride
    mask = torch.zeros(1, grid, grid, dtype=torch.long)
    mask[0, 0, 1] = mask[0, grid - 1, grid - 1] = 1
    with torch.no_grad():
        plain_out = model(x)
        plain = store.pop('x')
        model(x, mask)
        mixed = store.pop('x')
    handle.remove()
    if layout == 'nlc':  # (B, h*w, C) -> (B, C, h, w)
        plain, mixed = (t.transpose(1, 2).reshape(1, channels, grid, grid)
                        for t in (plain, mixed))
    changed = (mixed != plain).any(dim=1)[0]
    assert torch.equal(changed, mask[0].bool())
    token = model.mask_mixer.mask_token.view(-1)
    assert torch.allclose(mixed[0, :, 0, 1], 1e-6 * plain[0, :, 0, 1] + token, atol=1e-6)
    # without a mask: the plain backbone, and no token left behind for the next call
    with torch.no_grad():
        assert torch.equal(model.backbone(x)[-1], plain_out[-1])


def test_any_backbone_bad_stage_lists_the_valid_choices():
    swin = dict(type='SwinTransformer', arch='tiny')
    with pytest.raises(ValueError, match=r"'stages.7'.*stage indices 0..3 \['stages.0', "
                                         r"'stages.1', 'stages.2', 'stages.3'\].*'patch_embed'"):
        build_any(swin, 'stages.7')
    with pytest.raises(ValueError, match=r'mask_at=4: SwinTransformer has 4 stages'):
        build_any(swin, 4)
    model = build_any(swin, 'stages.2')
    with pytest.raises(ValueError, match=r'mask of shape \(1, 8, 8\) does not match.*'
                                         r'\(1, 16, 384\)'):
        model(torch.randn(1, 3, 64, 64), torch.zeros(1, 8, 8))


def test_any_backbone_vit_keeps_the_cls_token():
    model = build_any(dict(type='VisionTransformer', arch=VIT_TINY, img_size=64, patch_size=16,
                           out_type='featmap'), 'layers.1')
    assert (model.num_extra_tokens, model.mask_stride) == (1, 16)
    store, handle = capture_input(model.backbone.layers[1])
    x, mask = torch.randn(1, 3, 64, 64), torch.ones(1, 4, 4, dtype=torch.long)
    with torch.no_grad():
        model(x)
        plain = store.pop('x')
        model(x, mask)
    handle.remove()
    assert torch.equal(store['x'][:, 0], plain[:, 0])
    assert not torch.isclose(store['x'][:, 1:], plain[:, 1:]).any()
