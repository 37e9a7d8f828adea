"""Turn an MIM pretraining checkpoint into backbone weights for downstream codebases.

Formats: ``mmpretrain``, ``mmdet``, ``mmseg`` (the mmcv-style names the pretraining backbone
already has: ResNet ``conv1/bn1/layerK.j...``, BEiT-style ViT ``patch_embed.projection,
layers.i...``, ConvNeXt ``downsample_layers/stages``, Swin ``stages.i.blocks...``, MixMIM
``layers.i.blocks...``, PoolFormer ``network.i...``), ``torchvision`` and ``timm`` (ResNet:
identical names; ViT: timm's ``Beit`` names, no classifier).
"""
import importlib
import os
import os.path as osp
import re
from typing import Dict, List, Tuple, Union

import torch
from torch import nn

from .safe_load import load_weights

FORMATS = ('mmpretrain', 'mmdet', 'mmseg', 'timm', 'torchvision')
DROPPED_PREFIXES = ('mask_mixer.', )  # pretraining-only parameters
RESNET_DEPTHS = {(2, 2, 2, 2): 18, (3, 4, 6, 3): 50, (3, 4, 23, 3): 101, (3, 8, 36, 3): 152,
                 (3, 24, 36, 3): 200}


def backbone_weights(state_dict: Dict[str, torch.Tensor], source: str) -> Dict[str, torch.Tensor]:
    """``backbone.*`` tensors with the prefix stripped, without mask token / gamma, decoder,
    head or EMA copies."""
    weights = {}
    for key, value in state_dict.items():
        key = key[len('module.'):] if key.startswith('module.') else key
        if key.startswith('backbone.'):
            key = key[len('backbone.'):]
            if not key.startswith(DROPPED_PREFIXES):
                weights[key] = value
    if weights and all(key.startswith('backbone.') for key in weights):  # AnyMIMBackbone
        weights = {key[len('backbone.'):]: value for key, value in weights.items()}
    if not weights:
        prefixes = sorted({key.split('.')[0] for key in state_dict})[:10]
        raise ValueError(f'{source} holds no "backbone.*" weights (top-level names: '
                         f'{prefixes}): it is not an MIM pretraining checkpoint')
    return weights


def _blocks_per_stage(weights: Dict[str, torch.Tensor], stage_prefix: str) -> List[int]:
    """Blocks of each stage from keys ``<stage_prefix>.<i>.blocks.<j>...``."""
    depths = []
    while any(k.startswith(f'{stage_prefix}.{len(depths)}.blocks.') for k in weights):
        prefix = f'{stage_prefix}.{len(depths)}.blocks.'
        depths.append(len({k[len(prefix):].split('.')[0] for k in weights
                           if k.startswith(prefix)}))
    return depths


def _out_indices(weights: Dict[str, torch.Tensor], norm_prefix: str) -> Tuple[int, ...]:
    return tuple(sorted(int(k[len(norm_prefix):].split('.')[0]) for k in weights
                        if re.match(rf'^{norm_prefix}\d+\.weight$', k)))


def detect_architecture(weights: Dict[str, torch.Tensor]) -> dict:
    """Family and size of a backbone from its mmcv-style weights."""
    if 'stages.0.blocks.0.attn.w_msa.relative_position_bias_table' in weights:
        depths = _blocks_per_stage(weights, 'stages')
        table = 'stages.{}.blocks.0.attn.w_msa.relative_position_bias_table'
        return dict(family='swin', embed_dims=weights['patch_embed.projection.weight'].shape[0],
                    depths=depths,
                    num_heads=[weights[table.format(i)].shape[1] for i in range(len(depths))],
                    window_size=round((weights[table.format(0)].shape[0]**0.5 + 1) / 2),
                    out_indices=_out_indices(weights, 'norm'))
    if 'layers.0.blocks.0.attn.relative_position_bias_table' in weights:
        depths = _blocks_per_stage(weights, 'layers')
        table = 'layers.{}.blocks.0.attn.relative_position_bias_table'
        return dict(family='mixmim', embed_dims=weights['patch_embed.projection.weight'].shape[0],
                    depths=depths,
                    num_heads=[weights[table.format(i)].shape[1] for i in range(len(depths))])
    if 'network.0.0.mlp.fc1.weight' in weights:
        stages = sorted({int(k.split('.')[1]) for k in weights if k.startswith('network.')})
        block_stages = [i for i in stages if f'network.{i}.0.mlp.fc1.weight' in weights]
        return dict(family='poolformer',
                    layers=[len({k.split('.')[2] for k in weights
                                 if k.startswith(f'network.{i}.')}) for i in block_stages],
                    embed_dims=[weights[f'network.{i}.0.norm1.weight'].shape[0]
                                for i in block_stages],
                    mlp_ratios=[weights[f'network.{i}.0.mlp.fc1.weight'].shape[0] //
                                weights[f'network.{i}.0.norm1.weight'].shape[0]
                                for i in block_stages],
                    out_indices=_out_indices(weights, 'norm'))
    if 'layer1.0.conv1.weight' in weights:
        blocks = tuple(len({k.split('.')[1] for k in weights if k.startswith(f'layer{i}.')})
                       for i in range(1, 5))
        bottleneck = 'layer1.0.conv3.weight' in weights
        depth = 34 if blocks == (3, 4, 6, 3) and not bottleneck else RESNET_DEPTHS.get(blocks)
        if depth is None:
            raise ValueError(f'unknown ResNet with {blocks} blocks per stage')
        return dict(family='resnet', depth=depth)
    if 'patch_embed.projection.weight' in weights and 'layers.0.attn.qkv.weight' in weights:
        embed_dims, _, patch, _ = weights['patch_embed.projection.weight'].shape
        num_layers = len({k.split('.')[1] for k in weights if k.startswith('layers.')})
        table = weights['layers.0.attn.relative_position_bias_table']
        num_patches = weights['pos_embed'].shape[1] - 1 if 'pos_embed' in weights else None
        return dict(family='vit', embed_dims=embed_dims, num_layers=num_layers,
                    num_heads=table.shape[1], patch_size=patch,
                    feedforward_channels=weights['layers.0.ffn.layers.0.0.weight'].shape[0],
                    img_size=patch * round(((table.shape[0] - 3)**0.5 + 1) / 2),
                    use_abs_pos_emb=num_patches is not None, final_norm='ln1.weight' in weights)
    if 'downsample_layers.0.0.weight' in weights:
        depths = [len({k.split('.')[2] for k in weights if k.startswith(f'stages.{i}.')})
                  for i in range(4)]
        channels = [weights[f'stages.{i}.0.depthwise_conv.weight'].shape[0] for i in range(4)]
        return dict(family='convnext', depths=depths, channels=channels)
    raise ValueError('unknown backbone: expected mmcv-style ResNet, BEiT-style ViT, ConvNeXt, '
                     f'Swin, MixMIM or PoolFormer weights, got keys like {sorted(weights)[:5]}')


def _timm_beit_key(key: str) -> str:
    rules = [(r'^patch_embed\.projection\.', 'patch_embed.proj.'),
             (r'^layers\.(\d+)\.ln1\.', r'blocks.\1.norm1.'),
             (r'^layers\.(\d+)\.ln2\.', r'blocks.\1.norm2.'),
             (r'^layers\.(\d+)\.ffn\.layers\.0\.0\.', r'blocks.\1.mlp.fc1.'),
             (r'^layers\.(\d+)\.ffn\.layers\.1\.', r'blocks.\1.mlp.fc2.'),
             (r'^layers\.(\d+)\.', r'blocks.\1.'),
             (r'^ln1\.', 'norm.')]
    for pattern, replacement in rules:
        if re.match(pattern, key):
            return re.sub(pattern, replacement, key)
    return key


def convert(weights: Dict[str, torch.Tensor], arch: dict, fmt: str) -> Dict[str, torch.Tensor]:
    """Rename keys for ``fmt``; raises ValueError where the format has no such backbone."""
    if fmt not in FORMATS:
        raise ValueError(f'unknown format {fmt!r}; choose from {FORMATS}')
    family = arch['family']
    if fmt in ('mmpretrain', 'mmdet', 'mmseg'):
        return dict(weights)
    if family == 'resnet':  # torchvision and timm ResNets use the same names
        return dict(weights)
    if family == 'vit' and fmt == 'timm':
        return {_timm_beit_key(k): v for k, v in weights.items()
                if not k.endswith('relative_position_index')}
    raise ValueError(f'no {fmt} equivalent of this {family} backbone (BEiT-style ViTs export '
                     'to timm; ConvNeXt, Swin, MixMIM and PoolFormer stay in the mm* formats)')


def reference_model(arch: dict, fmt: str) -> nn.Module:
    """The plain backbone of ``fmt`` that the converted weights must fill."""
    family = arch['family']
    if family == 'resnet' and fmt == 'torchvision':
        import torchvision
        model = getattr(torchvision.models, f'resnet{arch["depth"]}')(weights=None)
        model.fc = nn.Identity()
        return model
    if fmt == 'timm':
        import timm
        if family == 'resnet':
            return timm.create_model(f'resnet{arch["depth"]}', num_classes=0)
        from timm.models.beit import Beit
        return Beit(img_size=arch['img_size'], patch_size=arch['patch_size'], num_classes=0,
                    embed_dim=arch['embed_dims'], depth=arch['num_layers'],
                    num_heads=arch['num_heads'],
                    mlp_ratio=arch['feedforward_channels'] / arch['embed_dims'],
                    use_abs_pos_emb=arch['use_abs_pos_emb'], use_rel_pos_bias=True,
                    init_values=0.1, global_pool='token')
    if family == 'resnet':
        if fmt == 'mmpretrain':  # without a mask it is mmpretrain's ResNet, plus depth 200
            from mim_agnostic.models.backbones import MIMResNet
            return MIMResNet(depth=arch['depth'])
        resnet = importlib.import_module(f'{fmt}.models.backbones').ResNet
        if arch['depth'] not in resnet.arch_settings:
            raise ValueError(f'{fmt} has no ResNet-{arch["depth"]}')
        return resnet(depth=arch['depth'])
    if family == 'vit':
        from mmpretrain.models.backbones import BEiTViT  # mmdet/mmseg configs use it too
        return BEiTViT(arch={k: arch[k] for k in ('embed_dims', 'num_layers', 'num_heads',
                                                  'feedforward_channels')},
                       img_size=arch['img_size'], patch_size=arch['patch_size'],
                       use_abs_pos_emb=arch['use_abs_pos_emb'], use_rel_pos_bias=True,
                       layer_scale_init_value=0.1, final_norm=arch['final_norm'],
                       out_type='featmap')
    from mmpretrain.models import backbones
    if family == 'swin':
        return backbones.SwinTransformer(
            arch={k: arch[k] for k in ('embed_dims', 'depths', 'num_heads')},
            window_size=arch['window_size'], out_indices=arch['out_indices'])
    if family == 'mixmim':
        return backbones.MixMIMTransformer(
            arch={k: arch[k] for k in ('embed_dims', 'depths', 'num_heads')})
    if family == 'poolformer':
        return backbones.PoolFormer(
            arch=dict(layers=arch['layers'], embed_dims=arch['embed_dims'],
                      mlp_ratios=arch['mlp_ratios'], layer_scale_init_value=1e-5),
            out_indices=arch['out_indices'])
    return backbones.ConvNeXt(arch=dict(depths=arch['depths'], channels=arch['channels']))


def compare_keys(model: Union[nn.Module, Dict[str, torch.Tensor]],
                 weights: Dict[str, torch.Tensor], skip: Tuple[str, ...] = DROPPED_PREFIXES
                 ) -> Tuple[List[str], List[str], List[str]]:
    """(missing, unexpected, shape-mismatched) keys of ``weights`` against ``model`` (or its
    state dict) without the keys starting with ``skip``; buffers that are derived, not
    learned (relative position indices), do not count as missing."""
    state = model.state_dict() if isinstance(model, nn.Module) else model
    expected = {k: v for k, v in state.items() if not k.startswith(skip)}
    missing = [k for k in expected if k not in weights
               and not k.endswith('relative_position_index')]
    unexpected = [k for k in weights if k not in expected]
    mismatched = [k for k in weights if k in expected and weights[k].shape != expected[k].shape]
    return missing, unexpected, mismatched


def export_backbone(checkpoint: str, out: str, fmt: str = 'mmpretrain') -> dict:
    """Write the converted backbone of ``checkpoint`` to ``out``; returns its architecture."""
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    weights = backbone_weights(load_weights(checkpoint), checkpoint)
    arch = detect_architecture(weights)
    converted = convert(weights, arch, fmt)
    missing, unexpected, mismatched = compare_keys(reference_model(arch, fmt), converted)
    if missing or unexpected or mismatched:
        raise ValueError(f'{checkpoint} does not fit the {fmt} {arch["family"]} {arch}: '
                         f'missing {missing[:10]}, unexpected {unexpected[:10]}, '
                         f'mis-shaped {mismatched[:10]}')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.save(dict(state_dict=converted,
                    meta=dict(source=osp.abspath(checkpoint), format=fmt, arch=arch)), out)
    print(f'{fmt} {arch}: {len(converted)} tensors, '
          f'{sum(v.numel() for v in converted.values()) / 1e6:.2f} M values, 0 missing, '
          f'0 unexpected -> {out}')
    return arch
