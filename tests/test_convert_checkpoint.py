"""tools/convert_checkpoint.py: other codebases' checkpoints -> toolkit checkpoints.

Source state dicts are written here with exactly the source's key names and shapes, read
from the reference code (file and commit cited at each builder), filled with random tensors;
timm / torchvision / mmpretrain ones come from their real models. Every test checks that
each tensor lands where the reference says, and that the converted model computes what the
source model did (same loss on a fixed batch)."""
import importlib.util
import os.path as osp
import re

import pytest
import torch
from mmpretrain.structures import DataSample

from mim_agnostic.utils.backbone_export import export_backbone
from mim_agnostic.utils.checkpoint_import import build_target, import_checkpoint
from mim_agnostic.utils.safe_load import UnsafeCheckpointError

from conftest import REPO_ROOT

CONFIGS = osp.join(REPO_ROOT, 'configs')
BN = dict(type='BN', requires_grad=True)
OPENMIXUP = 'Westlake-AI/openmixup@37e1372446ab35c03fcf77302539bd4a5bee47eb'
SIMMIM = 'microsoft/SimMIM@d3e29bcac950b83edc34ca33fe4404f38309052c'

# tiny but real architectures (cfg-options of the flagship configs)
VIT = dict(embed_dims=64, num_layers=2, num_heads=2, feedforward_channels=128)
VIT_OPTIONS = {'model.backbone.arch': dict(VIT, _delete_=True), 'model.backbone.img_size': 32,
               'model.neck.in_channels': 64}
CONVNEXT = dict(depths=[1, 1, 2, 1], channels=[8, 16, 32, 64])
CONVNEXT_OPTIONS = {'model.backbone.arch': dict(CONVNEXT, _delete_=True),
                    'model.neck.in_channels': 64}
SWIN = dict(embed_dims=16, depths=[2, 2, 2, 2], num_heads=[1, 2, 2, 4])
SWIN_OPTIONS = {'model.backbone.arch': dict(SWIN, _delete_=True), 'model.backbone.img_size': 64,
                'model.backbone.stage_cfgs.block_cfgs.window_size': 2,
                'model.neck.in_channels': 128}


def _randn(*shape) -> torch.Tensor:
    return torch.randn(*shape)


def _norm(prefix: str, channels: int, batch_norm: bool = False) -> dict:
    keys = {f'{prefix}.weight': _randn(channels), f'{prefix}.bias': _randn(channels)}
    if batch_norm:
        keys.update({f'{prefix}.running_mean': _randn(channels),
                     f'{prefix}.running_var': torch.rand(channels) + 0.5,
                     f'{prefix}.num_batches_tracked': torch.tensor(7)})
    return keys


def _linear(prefix: str, out_features: int, in_features: int, bias: bool = True) -> dict:
    keys = {f'{prefix}.weight': _randn(out_features, in_features) * in_features**-0.5}
    if bias:
        keys[f'{prefix}.bias'] = _randn(out_features) * 0.1
    return keys


def _conv(prefix: str, out_channels: int, in_channels: int, kernel: int, bias: bool = False,
          groups: int = 1) -> dict:
    keys = {f'{prefix}.weight': _randn(out_channels, in_channels // groups, kernel, kernel) *
            (in_channels // groups * kernel**2)**-0.5}
    if bias:
        keys[f'{prefix}.bias'] = _randn(out_channels) * 0.1
    return keys


def resnet_keys(blocks=(3, 4, 6, 3)) -> dict:
    """Bottleneck ResNet (mmcls/mmpretrain = torchvision names): conv1, bn1, layerK.j.convN /
    bnN, downsample.0 (conv) / .1 (BN) in block 0; openmixup/models/backbones/
    resnet_mmcls.py (OPENMIXUP), torchvision/models/resnet.py."""
    keys = {**_conv('conv1', 64, 3, 7), **_norm('bn1', 64, True)}
    in_channels = 64
    for stage, num_blocks in enumerate(blocks):
        width = 64 * 2**stage
        for j in range(num_blocks):
            p = f'layer{stage + 1}.{j}'
            keys.update({**_conv(f'{p}.conv1', width, in_channels, 1),
                         **_norm(f'{p}.bn1', width, True),
                         **_conv(f'{p}.conv2', width, width, 3), **_norm(f'{p}.bn2', width, True),
                         **_conv(f'{p}.conv3', width * 4, width, 1),
                         **_norm(f'{p}.bn3', width * 4, True)})
            if j == 0:
                keys.update({**_conv(f'{p}.downsample.0', width * 4, in_channels, 1),
                             **_norm(f'{p}.downsample.1', width * 4, True)})
            in_channels = width * 4
    return keys


def openmixup_a2mim_resnet(blocks=(3, 4, 6, 3)) -> dict:
    """openmixup A2MIM R50 (configs/selfsup/_base_/models/a2mim/r50.py, mask_layer=3,
    mask_init=1e-6): MIMResNet.mask_token / mask_gamma (1, 1024, 1, 1)
    (backbones/mim_resnet.py), NonLinearMIMNeck.decoder_pred = Sequential(Conv2d 2048 ->
    32*32*3, PixelShuffle) (necks/mim_neck.py); all at OPENMIXUP."""
    keys = {f'backbone.{k}': v for k, v in resnet_keys(blocks).items()}
    keys['backbone.mask_token'] = _randn(1, 1024, 1, 1) * 0.02
    keys['backbone.mask_gamma'] = torch.rand(1, 1024, 1, 1)
    keys['neck.decoder_pred.0.weight'] = _randn(32 * 32 * 3, 2048, 1, 1) * 0.02
    keys['neck.decoder_pred.0.bias'] = _randn(32 * 32 * 3) * 0.1
    return keys


def beit_relative_position_index(grid: int) -> torch.Tensor:
    """The (grid^2 + 1)^2 index of BEiT-code attention: openmixup models/utils/layers/
    attention.py MultiheadAttentionWithRPE (OPENMIXUP) = SimMIM models/vision_transformer.py
    (SIMMIM): pairwise offsets, then 3 extra entries for cls->patch, patch->cls, cls->cls."""
    coords = torch.stack(torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing='ij'))
    coords = coords.flatten(1)
    relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (grid - 1)
    relative[:, :, 0] *= 2 * grid - 1
    num = (2 * grid - 1)**2 + 3
    index = torch.zeros((grid * grid + 1, ) * 2, dtype=torch.long)
    index[1:, 1:] = relative.sum(-1)
    index[0, 0:] = num - 3
    index[0:, 0] = num - 2
    index[0, 0] = num - 1
    return index


def openmixup_a2mim_vit(dims=64, layers=2, heads=2, ffn=128, grid=2, patch=16) -> dict:
    """openmixup SimMIMViT (backbones/mim_vit.py on backbones/vision_transformer.py,
    use_window=True, init_values=0.1; OPENMIXUP): mmcv PatchEmbed 'projection', cls_token,
    pos_embed, TransformerEncoderLayer ln1 / attn (MultiheadAttentionWithRPE: qkv without
    bias, q_bias, v_bias, relative_position_bias_table, relative_position_index buffer, proj)
    / ln2 / ffn.layers.0.0 + ffn.layers.1 (mmcv FFN) / gamma_1, gamma_2 (D,), final 'ln1',
    mask_token (1, 1, D); NonLinearMIMNeck decoder_pred.0 (D -> 16*16*3)."""
    table = (2 * grid - 1)**2 + 3
    keys = {'backbone.cls_token': _randn(1, 1, dims) * 0.02,
            'backbone.pos_embed': _randn(1, grid * grid + 1, dims) * 0.02,
            **_conv('backbone.patch_embed.projection', dims, 3, patch, bias=True),
            **_norm('backbone.ln1', dims), 'backbone.mask_token': _randn(1, 1, dims) * 0.02}
    for i in range(layers):
        p = f'backbone.layers.{i}'
        keys.update({**_norm(f'{p}.ln1', dims), **_norm(f'{p}.ln2', dims),
                     **_linear(f'{p}.attn.qkv', 3 * dims, dims, bias=False),
                     f'{p}.attn.q_bias': _randn(dims) * 0.1, f'{p}.attn.v_bias': _randn(dims) * 0.1,
                     f'{p}.attn.relative_position_bias_table': _randn(table, heads),
                     f'{p}.attn.relative_position_index': beit_relative_position_index(grid),
                     **_linear(f'{p}.attn.proj', dims, dims),
                     **_linear(f'{p}.ffn.layers.0.0', ffn, dims),
                     **_linear(f'{p}.ffn.layers.1', dims, ffn),
                     f'{p}.gamma_1': torch.rand(dims), f'{p}.gamma_2': torch.rand(dims)})
    keys.update({'neck.decoder_pred.0.weight': _randn(patch * patch * 3, dims, 1, 1) * 0.1,
                 'neck.decoder_pred.0.bias': _randn(patch * patch * 3) * 0.1})
    return keys


def openmixup_a2mim_convnext(depths=(1, 1, 2, 1), channels=(8, 16, 32, 64)) -> dict:
    """openmixup MIMConvNeXt (backbones/convnext.py, the mmcls ConvNeXt; OPENMIXUP):
    downsample_layers.0 = (Conv2d 4x4, LN2d), .i = (LN2d, Conv2d 2x2); stages.i.j =
    depthwise_conv 7x7, norm, pointwise_conv1/2 (Linear), gamma (C,); norm3 for
    out_indices=(3,); mask_token / mask_gamma (1, C3, 1, 1) at mask_layer=3."""
    keys = {**_conv('backbone.downsample_layers.0.0', channels[0], 3, 4, bias=True),
            **_norm('backbone.downsample_layers.0.1', channels[0])}
    for i in range(1, 4):
        keys.update({**_norm(f'backbone.downsample_layers.{i}.0', channels[i - 1]),
                     **_conv(f'backbone.downsample_layers.{i}.1', channels[i], channels[i - 1],
                             2, bias=True)})
    for i, (depth, c) in enumerate(zip(depths, channels)):
        for j in range(depth):
            p = f'backbone.stages.{i}.{j}'
            keys.update({**_conv(f'{p}.depthwise_conv', c, c, 7, bias=True, groups=c),
                         **_norm(f'{p}.norm', c), **_linear(f'{p}.pointwise_conv1', 4 * c, c),
                         **_linear(f'{p}.pointwise_conv2', c, 4 * c), f'{p}.gamma': torch.rand(c)})
    keys.update({**_norm('backbone.norm3', channels[3]),
                 'backbone.mask_token': _randn(1, channels[3], 1, 1) * 0.02,
                 'backbone.mask_gamma': torch.rand(1, channels[3], 1, 1),
                 'neck.decoder_pred.0.weight': _randn(32 * 32 * 3, channels[3], 1, 1) * 0.1,
                 'neck.decoder_pred.0.bias': _randn(32 * 32 * 3) * 0.1})
    return keys


def simmim_vit(dims=64, layers=2, heads=2, ffn=128, grid=2, patch=16) -> dict:
    """Official SimMIM ViT-B (configs/vit_base__800ep: USE_APE False, USE_RPB False,
    USE_SHARED_RPB True, INIT_VALUES 0.1; SIMMIM models/vision_transformer.py and
    models/simmim.py): encoder.{cls_token, patch_embed.proj, rel_pos_bias.
    relative_position_bias_table/index, blocks.i.{norm1, attn.qkv (no bias), attn.q_bias,
    attn.v_bias, attn.proj, norm2, mlp.fc1, mlp.fc2, gamma_1, gamma_2}, norm, mask_token},
    decoder.0 (Conv2d D -> 16*16*3)."""
    table = (2 * grid - 1)**2 + 3
    keys = {'cls_token': _randn(1, 1, dims) * 0.02,
            **_conv('patch_embed.proj', dims, 3, patch, bias=True),
            'rel_pos_bias.relative_position_bias_table': _randn(table, heads),
            'rel_pos_bias.relative_position_index': beit_relative_position_index(grid),
            **_norm('norm', dims), 'mask_token': _randn(1, 1, dims) * 0.02}
    for i in range(layers):
        p = f'blocks.{i}'
        keys.update({**_norm(f'{p}.norm1', dims), **_norm(f'{p}.norm2', dims),
                     **_linear(f'{p}.attn.qkv', 3 * dims, dims, bias=False),
                     f'{p}.attn.q_bias': _randn(dims) * 0.1, f'{p}.attn.v_bias': _randn(dims) * 0.1,
                     **_linear(f'{p}.attn.proj', dims, dims), **_linear(f'{p}.mlp.fc1', ffn, dims),
                     **_linear(f'{p}.mlp.fc2', dims, ffn),
                     f'{p}.gamma_1': torch.rand(dims), f'{p}.gamma_2': torch.rand(dims)})
    keys = {f'encoder.{k}': v for k, v in keys.items()}
    keys.update({'decoder.0.weight': _randn(patch * patch * 3, dims, 1, 1) * 0.1,
                 'decoder.0.bias': _randn(patch * patch * 3) * 0.1})
    return keys


def swin_relative_position_index(window: int) -> torch.Tensor:
    """SIMMIM models/swin_transformer.py WindowAttention.relative_position_index."""
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window),
                                        indexing='ij')).flatten(1)
    relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)
    relative[:, :, 0] *= 2 * window - 1
    return relative.sum(-1)


def simmim_swin(embed=16, depths=(2, 2, 2, 2), heads=(1, 2, 2, 4), window=2, img=64) -> dict:
    """Official SimMIM Swin (SIMMIM models/swin_transformer.py, models/simmim.py):
    encoder.patch_embed.{proj, norm}, layers.i.blocks.j.{norm1, attn.{relative_position_
    bias_table, relative_position_index, qkv, proj}, norm2, mlp.fc1, mlp.fc2, attn_mask
    (buffer of shifted blocks)}, layers.i.downsample.{reduction (no bias), norm} (i < 3),
    norm, mask_token; decoder.0 (Conv2d 8C -> 32*32*3)."""
    keys = {**_conv('patch_embed.proj', embed, 3, 4, bias=True), **_norm('patch_embed.norm', embed),
            'mask_token': _randn(1, 1, embed) * 0.02}
    resolution = img // 4
    for i, (depth, num_heads) in enumerate(zip(depths, heads)):
        c = embed * 2**i
        for j in range(depth):
            p = f'layers.{i}.blocks.{j}'
            keys.update({**_norm(f'{p}.norm1', c), **_norm(f'{p}.norm2', c),
                         f'{p}.attn.relative_position_bias_table':
                             _randn((2 * window - 1)**2, num_heads),
                         f'{p}.attn.relative_position_index': swin_relative_position_index(window),
                         **_linear(f'{p}.attn.qkv', 3 * c, c), **_linear(f'{p}.attn.proj', c, c),
                         **_linear(f'{p}.mlp.fc1', 4 * c, c), **_linear(f'{p}.mlp.fc2', c, 4 * c)})
            if j % 2 == 1 and resolution > window:
                windows = (resolution // window)**2
                keys[f'{p}.attn_mask'] = torch.zeros(windows, window**2, window**2)
        if i < 3:
            keys.update({**_linear(f'layers.{i}.downsample.reduction', 2 * c, 4 * c, bias=False),
                         **_norm(f'layers.{i}.downsample.norm', 4 * c)})
        resolution //= 2
    keys.update(_norm('norm', embed * 8))
    keys = {f'encoder.{k}': v for k, v in keys.items()}
    keys.update({'decoder.0.weight': _randn(32 * 32 * 3, embed * 8, 1, 1) * 0.1,
                 'decoder.0.bias': _randn(32 * 32 * 3) * 0.1})
    return keys


# ------------------------------------------------------------------------------------------
def _save(path, state_dict, wrapper='state_dict', **extra) -> str:
    torch.save({wrapper: state_dict, **extra}, path)
    return str(path)


def _batch(size: int, stride: int, batch_size: int = 2) -> dict:
    """Fixed images and masks (masks at the token grid of stride ``stride``)."""
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (batch_size, 3, size, size), generator=generator,
                           dtype=torch.uint8)
    samples = []
    for _ in range(batch_size):
        mask = (torch.rand(size // stride, size // stride, generator=generator) < 0.6).long()
        mask.view(-1)[0] = 1  # at least one masked cell
        sample = DataSample()
        sample.set_mask(mask)
        samples.append(sample)
    return dict(inputs=images, data_samples=samples)


def _loss(model, state_dict: dict, size: int, stride: int) -> float:
    """Total loss of ``model`` with ``state_dict`` loaded strictly (derived buffers aside),
    on the fixed batch."""
    result = model.load_state_dict(state_dict, strict=False)
    derived = re.compile(r'\.(relative_position_index|attn_mask)$')
    assert not result.unexpected_keys and all(derived.search(k) for k in result.missing_keys), \
        result
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(_batch(size, stride), True)
        losses = model(**data, mode='loss')
    total = float(sum(v for k, v in losses.items() if k.startswith('loss')))
    assert torch.isfinite(torch.tensor(total))
    return total


def _converted(path) -> dict:
    return torch.load(path, weights_only=True)['state_dict']


def _assert_lands(source: dict, converted: dict, mapping: dict) -> None:
    """Every (source key -> target key) of ``mapping`` carries the very same values."""
    for src_key, dst_key in mapping.items():
        assert torch.equal(converted[dst_key], source[src_key]), (src_key, dst_key)


# ------------------------------------------------------------------------------------------
def test_openmixup_a2mim_r50(tmp_path):
    """The known R50 mapping: 3 renames, every other key identical; the loss of the converted
    model equals the loss of our model holding the same tensors under our names."""
    source = openmixup_a2mim_resnet()
    src = _save(tmp_path / 'a2mim_r50_openmixup.pth', source, meta=dict(epoch=300),
                optimizer=dict(state={}, param_groups=[]))
    out = tmp_path / 'r50.pth'
    import_checkpoint(src, str(out), 'openmixup')  # default config: configs/a2mim_r50.py
    converted = _converted(out)
    renames = {'backbone.mask_token': 'backbone.mask_mixer.mask_token',
               'backbone.mask_gamma': 'backbone.mask_mixer.mask_gamma',
               'neck.decoder_pred.0.weight': 'neck.predictor.weight',
               'neck.decoder_pred.0.bias': 'neck.predictor.bias'}
    _assert_lands(source, converted, {k: renames.get(k, k) for k in source})
    assert len(converted) == len(source)
    config = osp.join(CONFIGS, 'a2mim_r50.py')
    options = {'model.backbone.norm_cfg': BN}
    direct = {renames.get(k, k): v for k, v in source.items()}
    model = build_target(config, options)
    assert _loss(model, converted, 64, 16) == _loss(model, direct, 64, 16)


def test_openmixup_a2mim_vit(tmp_path):
    source = openmixup_a2mim_vit()
    src = _save(tmp_path / 'vit.pth', {f'module.{k}': v for k, v in source.items()})
    out = tmp_path / 'vit_converted.pth'
    config = osp.join(CONFIGS, 'a2mim_vit-base.py')
    conversion = import_checkpoint(src, str(out), 'openmixup', config, VIT_OPTIONS)
    converted = _converted(out)
    renames = {'backbone.mask_token': 'backbone.mask_mixer.mask_token',
               'neck.decoder_pred.0.weight': 'neck.predictor.weight',
               'neck.decoder_pred.0.bias': 'neck.predictor.bias'}
    index = [k for k in source if k.endswith('relative_position_index')]
    _assert_lands(source, converted, {k: renames.get(k, k) for k in source if k not in index})
    assert sorted(conversion.dropped) == sorted(index)
    target = build_target(config, VIT_OPTIONS).state_dict()  # the index we recompute = theirs
    for key in index:
        assert torch.equal(target[key], source[key]), key
    direct = {renames.get(k, k): v for k, v in source.items() if k not in index}
    model = build_target(config, VIT_OPTIONS)
    assert _loss(model, converted, 32, 16) == _loss(model, direct, 32, 16)


def test_openmixup_a2mim_convnext(tmp_path):
    source = openmixup_a2mim_convnext()
    src = _save(tmp_path / 'convnext.pth', source)
    out = tmp_path / 'convnext_converted.pth'
    config = osp.join(CONFIGS, 'a2mim_convnext-tiny.py')
    import_checkpoint(src, str(out), 'openmixup', config, CONVNEXT_OPTIONS)
    converted = _converted(out)
    renames = {'backbone.mask_token': 'backbone.mask_mixer.mask_token',
               'backbone.mask_gamma': 'backbone.mask_mixer.mask_gamma',
               'neck.decoder_pred.0.weight': 'neck.predictor.weight',
               'neck.decoder_pred.0.bias': 'neck.predictor.bias'}
    _assert_lands(source, converted, {k: renames.get(k, k) for k in source})
    assert len(converted) == len(source)
    direct = {renames.get(k, k): v for k, v in source.items()}
    model = build_target(config, CONVNEXT_OPTIONS)
    assert _loss(model, converted, 64, 32) == _loss(model, direct, 64, 32)


def test_simmim_vit_official(tmp_path):
    """Shared relative-position table -> one copy per layer, no absolute position embedding
    -> zeros: the converted (per-layer, abs-pos) model computes exactly what the official
    architecture (shared table, no abs pos; built with the same tensors) computes."""
    source = simmim_vit()
    src = _save(tmp_path / 'simmim_vit.pth', source, wrapper='model', epoch=799)
    out = tmp_path / 'simmim_vit_converted.pth'
    config = osp.join(CONFIGS, 'simmim_vit-base_800e.py')
    import_checkpoint(src, str(out), 'simmim', config, VIT_OPTIONS)
    converted = _converted(out)
    table = source['encoder.rel_pos_bias.relative_position_bias_table']
    for i in range(VIT['num_layers']):
        assert torch.equal(converted[f'backbone.layers.{i}.attn.relative_position_bias_table'],
                           table)
        _assert_lands(source, converted, {
            f'encoder.blocks.{i}.norm1.weight': f'backbone.layers.{i}.ln1.weight',
            f'encoder.blocks.{i}.attn.qkv.weight': f'backbone.layers.{i}.attn.qkv.weight',
            f'encoder.blocks.{i}.attn.q_bias': f'backbone.layers.{i}.attn.q_bias',
            f'encoder.blocks.{i}.mlp.fc1.bias': f'backbone.layers.{i}.ffn.layers.0.0.bias',
            f'encoder.blocks.{i}.mlp.fc2.weight': f'backbone.layers.{i}.ffn.layers.1.weight',
            f'encoder.blocks.{i}.gamma_2': f'backbone.layers.{i}.gamma_2'})
    _assert_lands(source, converted, {
        'encoder.patch_embed.proj.weight': 'backbone.patch_embed.projection.weight',
        'encoder.norm.weight': 'backbone.ln1.weight', 'encoder.cls_token': 'backbone.cls_token',
        'encoder.mask_token': 'backbone.mask_mixer.mask_token',
        'decoder.0.weight': 'neck.predictor.weight'})
    assert not converted['backbone.pos_embed'].any()
    # the official architecture in mmpretrain's BEiTViT: shared table, no abs pos
    official = {**VIT_OPTIONS, 'model.backbone.use_abs_pos_emb': False,
                'model.backbone.use_rel_pos_bias': False,
                'model.backbone.use_shared_rel_pos_bias': True}
    out_shared = tmp_path / 'simmim_vit_shared.pth'
    import_checkpoint(src, str(out_shared), 'simmim', config, official)
    shared = _converted(out_shared)
    assert torch.equal(shared['backbone.rel_pos_bias.relative_position_bias_table'], table)
    assert torch.equal(build_target(config, official).state_dict()[
        'backbone.rel_pos_bias.relative_position_index'],
        source['encoder.rel_pos_bias.relative_position_index'])
    assert _loss(build_target(config, VIT_OPTIONS), converted, 32, 16) == \
        pytest.approx(_loss(build_target(config, official), shared, 32, 16), rel=1e-6)


def _official_patch_merging(x, resolution, reduction, norm_weight, norm_bias):
    """SIMMIM models/swin_transformer.py PatchMerging.forward: (B, H*W, C) -> (B, H*W/4, 2C)."""
    b, _, c = x.shape
    x = x.view(b, resolution, resolution, c)
    x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
    x = torch.nn.functional.layer_norm(x.view(b, -1, 4 * c), (4 * c, ), norm_weight, norm_bias,
                                       eps=1e-5)
    return x @ reduction.t()


def test_simmim_swin_official(tmp_path):
    source = simmim_swin()
    src = _save(tmp_path / 'simmim_swin.pth', source, wrapper='model')
    out = tmp_path / 'simmim_swin_converted.pth'
    config = osp.join(CONFIGS, 'simmim_swin-base_100e_192px.py')
    conversion = import_checkpoint(src, str(out), 'simmim', config, SWIN_OPTIONS)
    converted = _converted(out)
    assert all(re.search(r'\.(relative_position_index|attn_mask)$', k)
               for k in conversion.dropped)
    _assert_lands(source, converted, {
        'encoder.patch_embed.proj.weight': 'backbone.patch_embed.projection.weight',
        'encoder.patch_embed.norm.bias': 'backbone.patch_embed.norm.bias',
        'encoder.layers.1.blocks.1.attn.relative_position_bias_table':
            'backbone.stages.1.blocks.1.attn.w_msa.relative_position_bias_table',
        'encoder.layers.2.blocks.0.attn.qkv.weight':
            'backbone.stages.2.blocks.0.attn.w_msa.qkv.weight',
        'encoder.layers.3.blocks.1.mlp.fc2.bias': 'backbone.stages.3.blocks.1.ffn.layers.1.bias',
        'encoder.layers.0.blocks.0.norm2.weight': 'backbone.stages.0.blocks.0.norm2.weight',
        'encoder.norm.weight': 'backbone.norm3.weight', 'encoder.mask_token': 'backbone.mask_token',
        'decoder.0.weight': 'neck.predictor.weight'})
    model = build_target(config, SWIN_OPTIONS)
    state = model.state_dict()
    key = 'backbone.stages.0.blocks.0.attn.w_msa.relative_position_index'
    assert torch.equal(state[key], source['encoder.layers.0.blocks.0.attn.relative_position_index'])
    # PatchMerging: mmpretrain's Unfold order computes the official concatenation's output
    model.load_state_dict(converted, strict=False)
    x = torch.randn(2, 16 * 16, 16)
    ours, _ = model.backbone.stages[0].downsample(x, (16, 16))
    theirs = _official_patch_merging(
        x, 16, source['encoder.layers.0.downsample.reduction.weight'],
        source['encoder.layers.0.downsample.norm.weight'],
        source['encoder.layers.0.downsample.norm.bias'])
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)
    assert _loss(model, converted, 64, 4) > 0


def _timm_beit(**kwargs):
    from timm.models.beit import Beit
    return Beit(img_size=32, patch_size=16, embed_dim=64, depth=2, num_heads=2, mlp_ratio=2.0,
                num_classes=10, init_values=0.1, **kwargs)


def test_torchvision_and_timm_resnet50(tmp_path):
    """Supervised weights: every backbone tensor lands, the classifier is dropped, mask
    token and decoder are reported fresh (not an error)."""
    import timm
    import torchvision
    for source_name, model in (('torchvision', torchvision.models.resnet50()),
                               ('timm', timm.create_model('resnet50', pretrained=False))):
        source = model.state_dict()
        src = _save(tmp_path / f'{source_name}.pth', source)
        out = tmp_path / f'{source_name}_converted.pth'
        conversion = import_checkpoint(src, str(out), source_name)
        converted = _converted(out)
        _assert_lands(source, converted,
                      {k: f'backbone.{k}' for k in source if not k.startswith('fc.')})
        assert sorted(conversion.dropped) == ['fc.bias', 'fc.weight']
        assert sorted(conversion.fresh) == ['backbone.mask_mixer.mask_gamma',
                                            'backbone.mask_mixer.mask_token',
                                            'neck.predictor.bias', 'neck.predictor.weight']
    from safetensors.torch import save_file  # timm's hub weights: model.safetensors
    save_file(source, str(tmp_path / 'model.safetensors'))
    import_checkpoint(str(tmp_path / 'model.safetensors'), str(tmp_path / 'st.pth'), 'timm')
    assert torch.equal(_converted(tmp_path / 'st.pth')['backbone.layer4.2.conv3.weight'],
                       source['layer4.2.conv3.weight'])
    torch.save(source, tmp_path / 'plain.pth')  # a bare state dict (torchvision's hub files)
    import_checkpoint(str(tmp_path / 'plain.pth'), str(tmp_path / 'plain_out.pth'), 'torchvision',
                      osp.join(CONFIGS, 'demo', 'a2mim_r50_demo.py'))


def test_timm_beit(tmp_path):
    """timm Beit: mean-pooling models (fc_norm) have no final norm: fresh; no abs pos: zeros;
    with both, the converted model computes the timm model's patch features."""
    torch.manual_seed(0)
    timm_model = _timm_beit(use_abs_pos_emb=True, use_rel_pos_bias=True, global_pool='token')
    source = timm_model.state_dict()
    src = _save(tmp_path / 'beit.pth', source)
    out = tmp_path / 'beit_converted.pth'
    config = osp.join(CONFIGS, 'a2mim_vit-base.py')
    conversion = import_checkpoint(src, str(out), 'timm', config, VIT_OPTIONS)
    converted = _converted(out)
    assert {k for k in conversion.dropped if not k.endswith('relative_position_index')} == \
        {'head.weight', 'head.bias'}
    model = build_target(config, VIT_OPTIONS)
    model.load_state_dict(converted, strict=False)
    model.eval()
    timm_model.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        ours = model.backbone(x)[0]  # (B, D, 2, 2) after the final norm
        theirs = timm_model.forward_features(x)[:, 1:]  # (B, 4, D)
    torch.testing.assert_close(ours.flatten(2).transpose(1, 2), theirs, rtol=1e-4, atol=1e-4)
    pooled = _timm_beit(use_abs_pos_emb=False, use_rel_pos_bias=True, global_pool='avg')
    src = _save(tmp_path / 'beit_avg.pth', pooled.state_dict())
    conversion = import_checkpoint(src, str(tmp_path / 'beit_avg_out.pth'), 'timm', config,
                                   VIT_OPTIONS)
    assert {'backbone.ln1.weight', 'backbone.ln1.bias'} <= set(conversion.fresh)
    assert 'fc_norm.weight' in conversion.dropped
    assert not _converted(tmp_path / 'beit_avg_out.pth')['backbone.pos_embed'].any()


def test_timm_plain_vit(tmp_path):
    """timm VisionTransformer (vit_base_patch16_224's layout): q/v biases split from the full
    qkv bias, layer scales ones, relative position tables zeros: the converted backbone
    computes timm's patch features."""
    from timm.models.vision_transformer import VisionTransformer
    torch.manual_seed(0)
    timm_model = VisionTransformer(img_size=32, patch_size=16, embed_dim=64, depth=2,
                                   num_heads=2, mlp_ratio=2.0, num_classes=10)
    for param in timm_model.parameters():  # timm zero-inits biases: make them count
        param.data.normal_(0, 0.2)
    source = timm_model.state_dict()
    src = _save(tmp_path / 'vit_timm.pth', source)
    out = tmp_path / 'vit_timm_out.pth'
    config = osp.join(CONFIGS, 'a2mim_vit-base.py')
    conversion = import_checkpoint(src, str(out), 'timm', config, VIT_OPTIONS)
    converted = _converted(out)
    assert torch.equal(converted['backbone.layers.1.attn.v_bias'],
                       source['blocks.1.attn.qkv.bias'][128:])
    assert set(conversion.dropped) == {'head.weight', 'head.bias'}
    model = build_target(config, VIT_OPTIONS)
    model.load_state_dict(converted, strict=False)
    model.eval()
    timm_model.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        ours = model.backbone(x)[0].flatten(2).transpose(1, 2)
        theirs = timm_model.forward_features(x)[:, 1:]
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)


def test_mmpretrain_zoo_swin_and_mixmim(tmp_path):
    """mmpretrain's own SimMIM-Swin (SimMIMLinearDecoder 'neck.decoder.0' -> our
    'neck.predictor') and MixMIM (same model in our config: identity)."""
    from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
    from mmengine.registry import init_default_scope

    from mim_agnostic.utils.runtime import load_package_config
    swin_cfg = load_package_config(
        'mmpretrain', 'simmim/simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py')
    swin_cfg.model.backbone.update(arch=SWIN, img_size=64,
                                   stage_cfgs=dict(block_cfgs=dict(window_size=2)))
    swin_cfg.model.neck.in_channels = 128
    init_default_scope('mmpretrain')
    source = MMPRETRAIN_MODELS.build(swin_cfg.model).state_dict()
    src = _save(tmp_path / 'mmpretrain_swin.pth', source, meta=dict(epoch=100))
    out = tmp_path / 'swin_out.pth'
    import_checkpoint(src, str(out), 'mmpretrain',
                      osp.join(CONFIGS, 'simmim_swin-base_100e_192px.py'), SWIN_OPTIONS)
    converted = _converted(out)
    _assert_lands(source, converted, {
        k: k.replace('neck.decoder.0.', 'neck.predictor.') for k in source
        if not k.endswith('relative_position_index')})

    mixmim_cfg = load_package_config(
        'mmpretrain', 'mixmim/mixmim_mixmim-base_16xb128-coslr-300e_in1k.py')
    small = dict(embed_dims=32, depths=[1, 1, 2, 1], num_heads=[1, 2, 2, 4])
    mixmim_cfg.model.backbone.arch = small
    mixmim_cfg.model.neck.update(embed_dim=256, decoder_embed_dim=32, decoder_depth=1,
                                 decoder_num_heads=2)
    init_default_scope('mmpretrain')
    source = MMPRETRAIN_MODELS.build(mixmim_cfg.model).state_dict()
    src = _save(tmp_path / 'mmpretrain_mixmim.pth', source)
    out = tmp_path / 'mixmim_out.pth'
    options = {'model.backbone.arch': dict(small, _delete_=True), 'model.neck.embed_dim': 256,
               'model.neck.decoder_embed_dim': 32, 'model.neck.decoder_depth': 1,
               'model.neck.decoder_num_heads': 2}
    import_checkpoint(src, str(out), 'mmpretrain',
                      osp.join(CONFIGS, 'mixmim_mixmim-base_300e.py'), options)
    _assert_lands(source, _converted(out), {k: k for k in source
                                            if not k.endswith('relative_position_index')})


@pytest.mark.parametrize('to', ['torchvision', 'timm', 'mmpretrain'])
def test_round_trip_export_import(tmp_path, to):
    """ours -> tools/extract_backbone.py --to X -> convert --from X: the same backbone."""
    config = osp.join(CONFIGS, 'a2mim_r50.py')
    options = None
    if to != 'torchvision':  # the ViT path for timm/mmpretrain, ResNet covers torchvision
        config, options = osp.join(CONFIGS, 'a2mim_vit-base.py'), VIT_OPTIONS
    torch.manual_seed(0)
    ours = {k: (torch.randn_like(v) if v.is_floating_point() else v)
            for k, v in build_target(config, options).state_dict().items()}
    trained = _save(tmp_path / 'ours.pth', ours)
    export_backbone(trained, str(tmp_path / 'exported.pth'), to)
    out = tmp_path / 'back.pth'
    conversion = import_checkpoint(str(tmp_path / 'exported.pth'), str(out), to, config, options)
    converted = _converted(out)
    backbone = {k: v for k, v in ours.items() if k.startswith('backbone.')
                and not k.startswith('backbone.mask_mixer.')
                and not k.endswith('relative_position_index')}
    assert set(converted) == set(backbone)
    _assert_lands(backbone, converted, {k: k for k in backbone})
    assert all(k.startswith(('backbone.mask_mixer.', 'neck.')) for k in conversion.fresh)


def test_bad_inputs_name_the_file_and_write_nothing(tmp_path):
    src = _save(tmp_path / 'a2mim_r50.pth', openmixup_a2mim_resnet())
    out = tmp_path / 'out.pth'
    with pytest.raises(ValueError, match=r'--from timm but .*a2mim_r50.pth looks like an '
                       r'openmixup A2MIM ResNet-50 checkpoint .*use --from openmixup'):
        import_checkpoint(src, str(out), 'timm')
    with pytest.raises(ValueError, match=r'ResNet-50 .*does not fit the model of .*a2mim_r101.py'
                       r' \(ResNet-101\): \d+ missing'):
        import_checkpoint(src, str(out), 'openmixup', osp.join(CONFIGS, 'a2mim_r101.py'))
    no_gamma = openmixup_a2mim_resnet()  # the ep100 recipe without mask_init
    del no_gamma['backbone.mask_gamma']
    no_gamma = _save(tmp_path / 'a2mim_r50_ep100.pth', no_gamma)
    with pytest.raises(ValueError, match=r"missing \['backbone.mask_mixer.mask_gamma'\].*add "
                       r'--cfg-options model.backbone.mask_gamma_init=0'):
        import_checkpoint(no_gamma, str(out), 'openmixup')
    assert not out.exists()
    import_checkpoint(no_gamma, str(tmp_path / 'ep100.pth'), 'openmixup',
                      cfg_options={'model.backbone.mask_gamma_init': 0.0})
    unknown = _save(tmp_path / 'unknown.pth', {'encoder.foo.weight': torch.zeros(2)})
    with pytest.raises(ValueError, match='unknown checkpoint format'):
        import_checkpoint(unknown, str(out), 'openmixup')
    vit = _save(tmp_path / 'vit.pth', openmixup_a2mim_vit())
    with pytest.raises(ValueError, match=r'ViT \(64-d, 2 layers.*does not fit the model of '
                       r'.*a2mim_vit-base.py \(ViT \(768-d, 12 layers'):
        import_checkpoint(vit, str(out), 'openmixup', osp.join(CONFIGS, 'a2mim_vit-base.py'))
    toolkit = _save(tmp_path / 'ours.pth', {'neck.predictor.weight': torch.zeros(1)})
    with pytest.raises(ValueError, match='needs no conversion; give it to load_from directly'):
        import_checkpoint(toolkit, str(out), 'openmixup')

    class Payload:
        def __reduce__(self):
            return (print, ('pwned', ))
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'x': Payload()}, tmp_path / 'evil.pth')
    with pytest.raises(UnsafeCheckpointError):
        import_checkpoint(str(tmp_path / 'evil.pth'), str(out), 'openmixup')
    assert not out.exists() and not osp.exists(f'{out}.tmp')


def test_tool_command_line(tmp_path, capsys):
    """The CLI (run in-process): report on success, 'error: ...' and exit 1 on a wrong
    --from, nothing written."""
    spec = importlib.util.spec_from_file_location(
        'convert_checkpoint', osp.join(REPO_ROOT, 'tools', 'convert_checkpoint.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    src = _save(tmp_path / 'a2mim_r50.pth', openmixup_a2mim_resnet())
    out = tmp_path / 'r50.pth'
    assert tool.main([src, str(out), '--from', 'openmixup']) == 0
    text = capsys.readouterr().out
    assert 'backbone.mask_token -> backbone.mask_mixer.mask_token' in text, text
    assert '0 missing, 0 unexpected, 0 mis-shaped' in text and out.exists()
    assert tool.main([src, str(tmp_path / 'x.pth'), '--from', 'torchvision']) == 1
    assert 'error: --from torchvision but' in capsys.readouterr().err
    assert not (tmp_path / 'x.pth').exists()
