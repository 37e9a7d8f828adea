"""Turn checkpoints of other codebases into toolkit checkpoints (``tools/convert_checkpoint.py``).

A source file is recognised by its key names (:data:`FORMATS`, first match wins), renamed by
its format's rules, adapted to the target model built from a toolkit config (shared
relative-position tables expanded per layer, an absent absolute position embedding filled
with zeros, token shapes reshaped) and checked against every key of that model: a missing,
unexpected or mis-shaped key is an error and nothing is written, except the target keys a
format documents as initialised fresh (the decoder and mask token of supervised backbones).
Key tables and the reference file behind each rule: ``docs/checkpoints.md``.
"""
import copy
import os
import os.path as osp
import re
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

from .backbone_export import compare_keys, detect_architecture
from .compat import OWN_CONFIGS
from .safe_load import load_weights

SOURCES = ('openmixup', 'simmim', 'timm', 'torchvision', 'mmpretrain')
# buffers the target computes from its own settings (SimMIM's remap_pretrained_keys_* and
# mmpretrain's loaders drop them too); equality of the formulas is tested
DERIVED_BUFFERS = r'\.(relative_position_index|attn_mask)$'
SUPERVISED_FRESH = (r'^backbone\.mask_mixer\.', r'^backbone\.mask_token$', r'^neck\.', r'^head\.')

# (source-key regex, target-key replacement, value transform or None)
Rule = Tuple[str, str, Optional[str]]


def _unfold_reduction_order(weight: torch.Tensor) -> torch.Tensor:
    """Swin PatchMerging ``reduction`` (out, 4C): the official model concatenates the 2x2
    neighbours as (0,0),(1,0),(0,1),(1,1) channel blocks; mmpretrain's ``nn.Unfold`` orders
    channels C-major over (0,0),(0,1),(1,0),(1,1)."""
    out_channels, in_channels = weight.shape
    blocks = weight.reshape(out_channels, 4, in_channels // 4)[:, [0, 2, 1, 3], :]
    return blocks.transpose(1, 2).reshape(out_channels, in_channels)


def _unfold_norm_order(value: torch.Tensor) -> torch.Tensor:
    """Swin PatchMerging ``norm`` (4C,): the same reordering as the reduction's inputs."""
    blocks = value.reshape(4, value.shape[0] // 4)[[0, 2, 1, 3], :]
    return blocks.transpose(0, 1).reshape(value.shape[0])


TRANSFORMS: Dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    'unfold_reduction': _unfold_reduction_order,
    'unfold_norm': _unfold_norm_order,
}


def _beit_rules(prefix: str) -> Tuple[Rule, ...]:
    """BEiT-code ViT names (microsoft/SimMIM ``models/vision_transformer.py``, timm
    ``models/beit.py``) under ``prefix`` -> mmpretrain ``BEiTViT`` names (our MIMViT)."""
    p = re.escape(prefix)
    return (
        (rf'^{p}patch_embed\.proj\.', 'backbone.patch_embed.projection.', None),
        (rf'^{p}blocks\.(\d+)\.norm1\.', r'backbone.layers.\1.ln1.', None),
        (rf'^{p}blocks\.(\d+)\.norm2\.', r'backbone.layers.\1.ln2.', None),
        (rf'^{p}blocks\.(\d+)\.mlp\.fc1\.', r'backbone.layers.\1.ffn.layers.0.0.', None),
        (rf'^{p}blocks\.(\d+)\.mlp\.fc2\.', r'backbone.layers.\1.ffn.layers.1.', None),
        (rf'^{p}blocks\.(\d+)\.(attn\.|gamma_[12]$)', r'backbone.layers.\1.\2', None),
        (rf'^{p}norm\.', 'backbone.ln1.', None),
        (rf'^{p}(cls_token|pos_embed)$', r'backbone.\1', None),
        (rf'^{p}rel_pos_bias\.relative_position_bias_table$',
         'backbone.rel_pos_bias.relative_position_bias_table', None),
        (rf'^{p}mask_token$', 'backbone.mask_mixer.mask_token', None),
    )


@dataclass(frozen=True)
class SourceFormat:
    """What a file looks like and how its keys become the toolkit's.

    Args:
        name: short id (stored in the output's meta).
        sources: the ``--from`` values that name this format.
        what: description for messages, completed by the architecture.
        reference: the file the rules were read from.
        matches: predicate on the (unwrapped) source keys.
        rules: renames; the first matching rule applies.
        dropped: regexes of source keys left out on purpose (classifiers, derived buffers).
        fresh: regexes of target keys the file cannot hold; they keep the target's init.
        fill_pos_embed: the source has no absolute position embedding: zeros if the target
            has one (adds nothing, so the network computes what the source did).
        adapt: ``adapt(converted, target, filled)`` derives target tensors the renames
            cannot (in place), noting each in ``filled``.
    """
    name: str
    sources: Tuple[str, ...]
    what: str
    reference: str
    matches: Callable[[Sequence[str]], bool]
    rules: Tuple[Rule, ...]
    dropped: Tuple[str, ...] = (DERIVED_BUFFERS, )
    fresh: Tuple[str, ...] = ()
    fill_pos_embed: bool = False
    adapt: Optional[Callable[[Dict[str, torch.Tensor], Dict[str, torch.Tensor], List[str]],
                             None]] = None


def _has(*keys: str) -> Callable[[Sequence[str]], bool]:
    return lambda names: all(k in names for k in keys)


_OPENMIXUP_TOKEN_RULES = (
    (r'^backbone\.mask_token$', 'backbone.mask_mixer.mask_token', None),
    (r'^backbone\.mask_gamma$', 'backbone.mask_mixer.mask_gamma', None),
)
_SIMMIM_SWIN_RULES = (
    (r'^encoder\.patch_embed\.proj\.', 'backbone.patch_embed.projection.', None),
    (r'^encoder\.patch_embed\.norm\.', 'backbone.patch_embed.norm.', None),
    (r'^encoder\.layers\.(\d+)\.blocks\.(\d+)\.attn\.', r'backbone.stages.\1.blocks.\2.attn.w_msa.',
     None),
    (r'^encoder\.layers\.(\d+)\.blocks\.(\d+)\.mlp\.fc1\.',
     r'backbone.stages.\1.blocks.\2.ffn.layers.0.0.', None),
    (r'^encoder\.layers\.(\d+)\.blocks\.(\d+)\.mlp\.fc2\.',
     r'backbone.stages.\1.blocks.\2.ffn.layers.1.', None),
    (r'^encoder\.layers\.(\d+)\.blocks\.(\d+)\.(norm[12])\.', r'backbone.stages.\1.blocks.\2.\3.',
     None),
    (r'^encoder\.layers\.(\d+)\.downsample\.reduction\.',
     r'backbone.stages.\1.downsample.reduction.', 'unfold_reduction'),
    (r'^encoder\.layers\.(\d+)\.downsample\.norm\.', r'backbone.stages.\1.downsample.norm.',
     'unfold_norm'),
    (r'^encoder\.norm\.', 'backbone.norm3.', None),
    (r'^encoder\.(mask_token|absolute_pos_embed)$', r'backbone.\1', None),
    (r'^decoder\.0\.(weight|bias)$', r'neck.predictor.\1', None),
)
_MMCV_BACKBONE = ('conv1.weight', 'layers.0.attn.qkv.weight', 'downsample_layers.0.0.weight',
                  'stages.0.blocks.0.attn.w_msa.qkv.weight',
                  'layers.0.blocks.0.attn.qkv.weight')


def _backbone_only(names: Sequence[str]) -> bool:
    """Top-level mmcv-style backbone keys (an extracted backbone), no wrapper prefix."""
    return any(k in names for k in _MMCV_BACKBONE) and not any(
        k.startswith(('backbone.', 'encoder.')) for k in names)


def _plain_vit_to_beit(converted: Dict[str, torch.Tensor], target: Dict[str, torch.Tensor],
                       filled: List[str]) -> None:
    """timm ``VisionTransformer`` -> BEiT layout, computing the same function: the full
    ``qkv.bias`` splits into ``q_bias`` / ``v_bias`` (a key bias adds ``q . b_k`` to every
    logit of a query row, which softmax cancels), absent layer scales are ones and absent
    relative position tables zeros."""
    for key in [k for k in converted if k.endswith('.attn.qkv.bias')]:
        q_bias, _, v_bias = converted.pop(key).chunk(3)
        layer = key[:-len('qkv.bias')]
        converted[f'{layer}q_bias'], converted[f'{layer}v_bias'] = q_bias, v_bias
        filled.append(f'{layer}{{q_bias,v_bias}} (split from qkv.bias, key bias dropped)')
    for key, value in target.items():
        if key not in converted and re.fullmatch(r'backbone\.layers\.\d+\.gamma_[12]', key):
            converted[key] = torch.ones_like(value)
            filled.append(f'{key} (ones: no layer scale in the source)')
        elif key not in converted and re.fullmatch(
                r'backbone\.layers\.\d+\.attn\.relative_position_bias_table', key):
            converted[key] = torch.zeros_like(value)
            filled.append(f'{key} (zeros: no relative position bias in the source)')


FORMATS: Tuple[SourceFormat, ...] = (
    SourceFormat(
        'toolkit', (), 'a mim_agnostic (toolkit) checkpoint, which needs no conversion',
        'mim_agnostic/models/backbones/mask_in_middle.py',
        lambda names: 'neck.predictor.weight' in names or any(
            k.startswith('backbone.mask_mixer.') for k in names), ()),
    SourceFormat(
        'openmixup-a2mim', ('openmixup', ), 'an openmixup A2MIM {arch} checkpoint (backbone + '
        'decoder)', 'Westlake-AI/openmixup openmixup/models/backbones/{mim_resnet,mim_vit,'
        'convnext}.py, openmixup/models/necks/mim_neck.py (NonLinearMIMNeck)',
        _has('backbone.mask_token', 'neck.decoder_pred.0.weight'),
        _OPENMIXUP_TOKEN_RULES + (
            (r'^neck\.decoder_pred\.0\.(weight|bias)$', r'neck.predictor.\1', None),
            (r'^backbone\.', 'backbone.', None))),
    SourceFormat(
        'openmixup-backbone', ('openmixup', ), 'an openmixup A2MIM {arch} backbone (the output '
        'of openmixup tools/model_converters/extract_backbone_weights.py, no decoder)',
        'Westlake-AI/openmixup tools/model_converters/extract_backbone_weights.py',
        lambda names: 'mask_token' in names and _backbone_only(names),
        ((r'^mask_token$', 'backbone.mask_mixer.mask_token', None),
         (r'^mask_gamma$', 'backbone.mask_mixer.mask_gamma', None),
         (r'^', 'backbone.', None)),
        fresh=(r'^neck\.', )),
    SourceFormat(
        'simmim-vit', ('simmim', ), 'an official microsoft/SimMIM {arch} checkpoint (encoder + '
        'decoder)', 'microsoft/SimMIM models/simmim.py, models/vision_transformer.py, '
        'utils.py (remap_pretrained_keys_vit)',
        _has('encoder.mask_token', 'decoder.0.weight', 'encoder.patch_embed.proj.weight',
             'encoder.blocks.0.attn.qkv.weight'),
        _beit_rules('encoder.') + ((r'^decoder\.0\.(weight|bias)$', r'neck.predictor.\1', None), ),
        fill_pos_embed=True),
    SourceFormat(
        'simmim-swin', ('simmim', ), 'an official microsoft/SimMIM {arch} checkpoint (encoder + '
        'decoder)', 'microsoft/SimMIM models/simmim.py, models/swin_transformer.py; mmpretrain '
        'tools/model_converters/glip_to_mmpretrain.py (Swin renames, PatchMerging order)',
        _has('encoder.mask_token', 'decoder.0.weight',
             'encoder.layers.0.blocks.0.attn.relative_position_bias_table'),
        _SIMMIM_SWIN_RULES),
    SourceFormat(
        'mmpretrain-simmim-swin', ('mmpretrain', ), 'an mmpretrain model-zoo SimMIM {arch} '
        'checkpoint', 'mmpretrain mmpretrain/models/selfsup/simmim.py, '
        'mmpretrain/models/necks/simmim_neck.py (SimMIMLinearDecoder)',
        _has('backbone.mask_token', 'neck.decoder.0.weight',
             'backbone.stages.0.blocks.0.attn.w_msa.relative_position_bias_table'),
        ((r'^neck\.decoder\.0\.(weight|bias)$', r'neck.predictor.\1', None),
         (r'^backbone\.', 'backbone.', None))),
    SourceFormat(
        'mmpretrain-mixmim', ('mmpretrain', ), 'an mmpretrain model-zoo MixMIM {arch} checkpoint',
        'mmpretrain mmpretrain/models/selfsup/mixmim.py, mmpretrain/models/necks/'
        'mixmim_neck.py', _has('neck.decoder_embed.weight',
                               'backbone.layers.0.blocks.0.attn.relative_position_bias_table'),
        ((r'^(backbone|neck)\.', r'\1.', None), )),
    SourceFormat(
        'mmpretrain-classifier', ('mmpretrain', ), 'an mmpretrain image classifier {arch} '
        'checkpoint (backbone + classification head)', 'mmpretrain '
        'mmpretrain/models/classifiers/image.py', lambda names: any(
            k.startswith('backbone.') for k in names) and any(
                k.startswith('head.') for k in names) and not any(
                    k.startswith('neck.') or k.endswith('mask_token') for k in names),
        ((r'^backbone\.', 'backbone.', None), ), dropped=(DERIVED_BUFFERS, r'^head\.'),
        fresh=SUPERVISED_FRESH),
    SourceFormat(
        'resnet', ('timm', 'torchvision', 'mmpretrain'), 'a timm / torchvision / mmcv-style '
        '{arch} state dict (identical names)', 'torchvision torchvision/models/resnet.py, timm '
        'timm/models/resnet.py, mmpretrain mmpretrain/models/backbones/resnet.py',
        lambda names: 'layer1.0.conv1.weight' in names and _backbone_only(names),
        ((r'^', 'backbone.', None), ), dropped=(DERIVED_BUFFERS, r'^fc\.'),
        fresh=SUPERVISED_FRESH),
    SourceFormat(
        'timm-beit', ('timm', ), 'a timm BEiT {arch} state dict', 'timm timm/models/beit.py',
        _has('patch_embed.proj.weight', 'blocks.0.attn.q_bias'),
        _beit_rules(''), dropped=(DERIVED_BUFFERS, r'^head\.', r'^fc_norm\.'),
        fresh=SUPERVISED_FRESH + (r'^backbone\.ln1\.', ), fill_pos_embed=True),
    SourceFormat(
        'timm-vit', ('timm', ), 'a timm VisionTransformer {arch} state dict',
        'timm timm/models/vision_transformer.py',
        lambda names: 'patch_embed.proj.weight' in names and 'blocks.0.attn.qkv.bias' in names,
        ((r'^blocks\.(\d+)\.ls([12])\.gamma$', r'backbone.layers.\1.gamma_\2', None),
         ) + _beit_rules(''),
        dropped=(DERIVED_BUFFERS, r'^head\.', r'^fc_norm\.'),
        fresh=SUPERVISED_FRESH + (r'^backbone\.ln1\.', ), fill_pos_embed=True,
        adapt=_plain_vit_to_beit),
    SourceFormat(
        'mmpretrain-backbone', ('mmpretrain', ), 'an mmcv-style {arch} backbone (as '
        'tools/extract_backbone.py writes)', 'mmpretrain mmpretrain/models/backbones/',
        _backbone_only, ((r'^', 'backbone.', None), ), fresh=SUPERVISED_FRESH),
)


def unwrap(state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Strip a ``module.`` (DDP) or ``model.`` wrapper prefix that every key carries."""
    for prefix in ('module.', 'model.'):
        if state_dict and all(k.startswith(prefix) for k in state_dict):
            state_dict = {k[len(prefix):]: v for k, v in state_dict.items()}
    return state_dict


def _architecture(weights: Dict[str, torch.Tensor]) -> Optional[dict]:
    if 'rel_pos_bias.relative_position_bias_table' in weights:  # shared table: as layer 0's
        weights = {'layers.0.attn.relative_position_bias_table':
                   weights['rel_pos_bias.relative_position_bias_table'], **weights}
    if 'layers.0.attn.qkv.weight' in weights and 'pos_embed' in weights and \
            'layers.0.attn.relative_position_bias_table' not in weights:  # plain ViT
        embed_dims, _, patch, _ = weights['patch_embed.projection.weight'].shape
        return dict(family='vit', embed_dims=embed_dims, num_heads='?', patch_size=patch,
                    num_layers=len({k.split('.')[1] for k in weights if k.startswith('layers.')}),
                    img_size=patch * round((weights['pos_embed'].shape[1] - 1)**0.5))
    try:
        return detect_architecture(weights)
    except (ValueError, KeyError):
        return None


def describe_architecture(arch: Optional[dict]) -> str:
    """``ResNet-50``, ``ViT (768-d, 12 layers, 12 heads, patch 16, 224 px)``, ..."""
    if arch is None:
        return 'model of unknown architecture'
    family = arch['family']
    if family == 'resnet':
        return f'ResNet-{arch["depth"]}'
    if family == 'vit':
        return (f'ViT ({arch["embed_dims"]}-d, {arch["num_layers"]} layers, '
                f'{arch["num_heads"]} heads, patch {arch["patch_size"]}, {arch["img_size"]} px)')
    if family == 'convnext':
        return f'ConvNeXt (depths {arch["depths"]}, channels {arch["channels"]})'
    if family in ('swin', 'mixmim'):
        name = 'Swin' if family == 'swin' else 'MixMIM'
        return f'{name} ({arch["embed_dims"]}-d, depths {arch["depths"]})'
    return f'{family} {arch}'


def _backbone_arch(weights: Dict[str, torch.Tensor]) -> Optional[dict]:
    """Architecture of the ``backbone.*`` part of toolkit-named weights."""
    backbone = {k[len('backbone.'):]: v for k, v in weights.items() if k.startswith('backbone.')}
    return _architecture(backbone) if backbone else None


def _rename(key: str, rules: Sequence[Rule]) -> Optional[Tuple[str, Optional[str]]]:
    for pattern, replacement, transform in rules:
        if re.match(pattern, key):
            return re.sub(pattern, replacement, key, count=1), transform
    return None


def detect_format(state_dict: Dict[str, torch.Tensor]) -> SourceFormat:
    """The first of :data:`FORMATS` whose key pattern the (unwrapped) state dict has."""
    names = list(state_dict)
    for fmt in FORMATS:
        if fmt.matches(names):
            return fmt
    heads = sorted({k.split('.')[0] for k in names})[:12]
    raise ValueError(
        'unknown checkpoint format (top-level names '
        f'{heads}, e.g. {sorted(names)[:4]}): expected an openmixup A2MIM, official SimMIM, '
        'timm/torchvision ResNet, timm BEiT or mmpretrain checkpoint (docs/checkpoints.md)')


@dataclass
class Conversion:
    """The converted weights and what happened to every key."""
    state_dict: Dict[str, torch.Tensor]
    mapping: List[Tuple[str, str]]  # (source key, target key), transforms noted in 'filled'
    dropped: List[str]              # source keys left out on purpose
    filled: List[str]               # target keys derived, not copied (expanded, zeros, ...)
    fresh: List[str]                # target keys left at the target's init
    unexpected: List[str]           # source keys no rule knows (an error)


def convert_state_dict(state_dict: Dict[str, torch.Tensor], fmt: SourceFormat,
                       target: Dict[str, torch.Tensor]) -> Conversion:
    """Rename ``state_dict`` (unwrapped) by ``fmt`` and adapt it to the ``target`` state dict
    (names and shapes); missing and mis-shaped keys are left for :func:`check_against`."""
    converted, mapping, dropped, filled, unexpected = {}, [], [], [], []
    for key, value in state_dict.items():
        if any(re.search(pattern, key) for pattern in fmt.dropped):
            dropped.append(key)
            continue
        renamed = _rename(key, fmt.rules)
        if renamed is None:
            unexpected.append(key)
            continue
        new_key, transform = renamed
        if transform is not None:
            value = TRANSFORMS[transform](value)
            filled.append(f'{new_key} ({transform})')
        elif new_key.startswith('backbone.mask_mixer.') and new_key in target and \
                value.shape != target[new_key].shape and \
                value.numel() == target[new_key].numel():  # openmixup ViT gamma (C,) -> (1,1,C)
            value = value.reshape(target[new_key].shape)
            filled.append(f'{new_key} (reshaped {tuple(state_dict[key].shape)} -> '
                          f'{tuple(value.shape)})')
        converted[new_key] = value
        mapping.append((key, new_key))
    if fmt.adapt is not None:
        fmt.adapt(converted, target, filled)
        mapping = [(s, t) for s, t in mapping if t in converted]  # the rest are in 'filled'
    shared = 'backbone.rel_pos_bias.relative_position_bias_table'
    layers = [k for k in target
              if re.fullmatch(r'backbone\.layers\.\d+\.attn\.relative_position_bias_table', k)]
    if shared in converted and shared not in target and layers:  # as BEiT fine-tuning does
        table = converted.pop(shared)
        source_key = next(s for s, t in mapping if t == shared)
        mapping.remove((source_key, shared))
        for key in layers:
            converted[key] = table.clone()
            mapping.append((source_key, key))
        filled.append(f'{shared} copied to each of the {len(layers)} layers\' tables')
    if fmt.fill_pos_embed and 'backbone.pos_embed' in target and \
            'backbone.pos_embed' not in converted:
        converted['backbone.pos_embed'] = torch.zeros_like(target['backbone.pos_embed'])
        filled.append('backbone.pos_embed (zeros: the source has no absolute position '
                      'embedding)')
    fresh = [k for k in target if k not in converted and not re.search(DERIVED_BUFFERS, k)
             and any(re.search(p, k) for p in fmt.fresh)]
    return Conversion(converted, mapping, dropped, filled, fresh, unexpected)


# (which list, key substring) -> what to change in the target config
MISMATCH_HINTS = {
    ('missing', 'mask_mixer.mask_gamma'): 'The source has no mask gamma: add --cfg-options '
    'model.backbone.mask_gamma_init=0',
    ('unexpected', 'mask_mixer.mask_gamma'): 'The source has a mask gamma: add --cfg-options '
    'model.backbone.mask_gamma_init=1e-6',
    ('mis_shaped', 'mask_mixer.mask_token'): 'The source adds its token at another stage: set '
    'model.backbone.mask_stage (CNNs) or model.backbone.mask_layer (ViT)',
}


def check_against(conversion: Conversion, target: Dict[str, torch.Tensor], what: str,
                  target_what: str) -> None:
    """Raise unless every target key is converted (or documented fresh) with its shape and
    no source key is left over."""
    missing, unexpected, mis_shaped = compare_keys(target, conversion.state_dict, skip=())
    missing = [k for k in missing if k not in conversion.fresh]
    unexpected = conversion.unexpected + unexpected
    if missing or unexpected or mis_shaped:
        shapes = [f'{k} {tuple(conversion.state_dict[k].shape)} vs {tuple(target[k].shape)}'
                  for k in mis_shaped]
        hints = [hint for (keys, pattern), hint in MISMATCH_HINTS.items()
                 if any(pattern in k for k in {'missing': missing, 'unexpected': unexpected,
                                               'mis_shaped': mis_shaped}[keys])]
        raise ValueError(
            f'{what} does not fit {target_what}: {len(missing)} missing {missing[:8]}, '
            f'{len(unexpected)} unexpected {unexpected[:8]}, {len(shapes)} mis-shaped '
            f'{shapes[:4]}; nothing written' + ''.join(f'. {hint}' for hint in hints))


DEFAULT_CONFIGS = {
    ('resnet', 50): 'a2mim_r50.py', ('resnet', 101): 'a2mim_r101.py',
    ('resnet', 152): 'a2mim_r152.py', ('resnet', 200): 'a2mim_r200.py',
    ('vit', 768, 8): 'a2mim_vit-small.py', ('vit', 768, 12): 'a2mim_vit-base.py',
    ('vit', 1024, 24): 'a2mim_vit-large.py',
    ('convnext', 96, 9): 'a2mim_convnext-tiny.py', ('convnext', 96, 27): 'a2mim_convnext-small.py',
    ('convnext', 128, 27): 'a2mim_convnext-base.py',
    ('swin', 128): 'simmim_swin-base_100e_192px.py', ('mixmim', 128): 'mixmim_mixmim-base_300e.py',
}


def default_config(fmt: SourceFormat, arch: Optional[dict]) -> str:
    """The toolkit config of the same method and size as the source."""
    key = None
    if arch is not None:
        family = arch['family']
        key = {'resnet': lambda: (family, arch['depth']),
               'vit': lambda: (family, arch['embed_dims'], arch['num_layers']),
               'convnext': lambda: (family, arch['channels'][0], arch['depths'][2]),
               }.get(family, lambda: (family, arch['embed_dims']))()
    name = DEFAULT_CONFIGS.get(key)
    if name is not None and fmt.name == 'simmim-vit' and name == 'a2mim_vit-base.py':
        name = 'simmim_vit-base_800e.py'
    if name is None:
        what = fmt.what.format(arch=describe_architecture(arch))
        raise ValueError(f'no default toolkit config for {what}: pass --config CONFIG')
    return osp.join(OWN_CONFIGS, name)


def build_target(config: str, cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """The model of a toolkit config (CPU, not initialised: only names and shapes count)."""
    from mmengine.registry import init_default_scope

    from mim_agnostic.registry import MODELS
    from .runtime import load_config
    cfg = load_config(config, copy.deepcopy(cfg_options))  # mmengine pops '_delete_' in place
    init_default_scope(cfg.get('default_scope', 'mim_agnostic'))
    return MODELS.build(cfg.model)


def import_checkpoint(src: str, out: str, source: str, config: Optional[str] = None,
                      cfg_options: Optional[dict] = None) -> Conversion:
    """Convert ``src`` (a ``source`` checkpoint) for the model of ``config`` (default: the
    toolkit config of the same method and size) and write ``{'state_dict', 'meta'}`` to
    ``out``; any mismatch raises ValueError before anything is written."""
    if source not in SOURCES:
        raise ValueError(f'unknown source {source!r}; choose from {SOURCES}')
    state_dict = unwrap(load_weights(src))
    fmt = detect_format(state_dict)
    # the architecture as the file names it, for messages (mmcv-style names after renaming)
    renamed = {}
    for key, value in state_dict.items():
        hit = _rename(key, fmt.rules)
        if hit is not None and not any(re.search(p, key) for p in fmt.dropped):
            renamed[hit[0]] = value
    arch = _backbone_arch(renamed)
    looks_like = fmt.what.format(arch=describe_architecture(arch))
    if source not in fmt.sources:
        hint = (f'; use --from {" or --from ".join(fmt.sources)}' if fmt.sources
                else '; give it to load_from directly')
        raise ValueError(f'--from {source} but {src} looks like {looks_like}{hint}')
    config = config or default_config(fmt, arch)
    target = build_target(config, cfg_options).state_dict()
    target_what = f'the model of {config} ({describe_architecture(_backbone_arch(target))})'
    conversion = convert_state_dict(state_dict, fmt, target)
    check_against(conversion, target, f'{src} ({looks_like})', target_what)
    meta = dict(source=osp.abspath(src), source_format=fmt.name, source_from=source,
                reference=fmt.reference, config=osp.abspath(config),
                cfg_options=dict(cfg_options or {}), mapping=conversion.mapping,
                dropped=conversion.dropped, filled=conversion.filled, fresh=conversion.fresh)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    tmp = f'{out}.tmp'
    torch.save(dict(state_dict=conversion.state_dict, meta=meta), tmp)
    os.replace(tmp, out)
    return conversion


def format_report(conversion: Conversion, out: str) -> str:
    """What the conversion did, for the terminal."""
    prefixed = [s for s, t in conversion.mapping if t == f'backbone.{s}']
    renamed = [f'  {s} -> {t}' for s, t in conversion.mapping
               if s != t and t != f'backbone.{s}']
    lines = [f'{len(conversion.state_dict)} tensors -> {out} '
             f'({len(conversion.mapping)} copied: {len(renamed)} renamed, {len(prefixed)} '
             f'prefixed with "backbone.", the rest unchanged; 0 missing, 0 unexpected, '
             '0 mis-shaped)']
    if renamed:
        shown = renamed if len(renamed) <= 12 else renamed[:10] + [
            f'  ... {len(renamed) - 10} more (meta["mapping"] lists all)']
        lines += ['renamed:'] + shown
    for title, keys in (('derived', conversion.filled), ('dropped', conversion.dropped),
                        ('initialised fresh (not in the source)', conversion.fresh)):
        if keys:
            lines.append(f'{title}: {len(keys)}: ' + ', '.join(keys[:8]) +
                         (' ...' if len(keys) > 8 else ''))
    return '\n'.join(lines)
