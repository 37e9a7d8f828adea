"""Backbone extraction and every downstream config: zero missing backbone keys, loaded
tensors equal to the pretrained ones, exports that load strictly into timm / torchvision."""
import glob
import importlib
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mim_agnostic.models.backbones import MIMResNet, MIMViT
from mim_agnostic.utils.backbone_export import export_backbone
from mim_agnostic.utils.safe_load import load_weights
from mim_agnostic.utils.runtime import replace_sync_bn
from conftest import REPO_ROOT

DOWNSTREAM = sorted(osp.relpath(p, REPO_ROOT) for p in glob.glob(
    osp.join(REPO_ROOT, 'configs', 'downstream', '*', '*.py'))
    if 'mixmim' not in p)  # MixMIM-B: test_methods.py extracts and loads a real one


def save_pretraining_checkpoint(backbone, path):
    """A checkpoint shaped like an A²MIM run's: backbone (with mask token), decoder, meta."""
    state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    state['neck.predictor.weight'] = torch.zeros(3, 1, 1, 1)
    torch.save(dict(state_dict=state, meta=dict(epoch=1)), path)
    return path


@pytest.fixture(scope='module')
def pretrained(tmp_path_factory):
    """Extracted (mm-format) weights of randomly initialised MIM backbones, per arch."""
    root = tmp_path_factory.mktemp('pretrained')
    torch.manual_seed(0)
    backbones = dict(r50=MIMResNet(depth=50, mask_gamma_init=1e-6),
                     **{f'vit-{arch}': MIMViT(arch=arch) for arch in ('small', 'base', 'large')})
    files = {}
    for name, backbone in backbones.items():
        source = save_pretraining_checkpoint(backbone, str(root / f'{name}_mim.pth'))
        files[name] = str(root / f'{name}.pth')
        export_backbone(source, files[name], 'mmpretrain')
        del backbone
    return files


def weights_for(config):
    name = osp.basename(config)
    if 'vit' not in name:
        return 'r50'
    return next(f'vit-{arch}' for arch in ('small', 'large', 'base') if f'vit-{arch[0]}' in
                name or f'vit-{arch}' in name)


@pytest.mark.parametrize('config', DOWNSTREAM)
def test_downstream_config_loads_every_backbone_key(config, pretrained):
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    assert cfg.get('pretrained') is not None, 'each downstream config names its weights file'
    path = pretrained[weights_for(config)]
    cfg.model.backbone.init_cfg.checkpoint = path
    shared_head = cfg.model.get('roi_head', {}).get('shared_head')
    if shared_head is not None:
        shared_head.init_cfg.checkpoint = path
    scope = cfg.default_scope
    importlib.import_module(f'{scope}.utils').register_all_modules(init_default_scope=False)
    init_default_scope(scope)
    model = importlib.import_module(f'{scope}.registry').MODELS.build(
        replace_sync_bn(cfg.model))
    model.init_weights()
    weights = load_weights(path)
    loaded = dict(model.backbone.state_dict())
    if shared_head is not None:  # C4: layer4 lives in the RoI head
        loaded.update(model.roi_head.shared_head.state_dict())
    missing = [k for k in loaded if k not in weights and 'relative_position_index' not in k]
    if cfg.model.backbone.get('out_type') == 'avg_featmap':
        # BEiT protocol: a fresh LN over the pooled patch tokens (fc_norm), like the head
        missing = [k for k in missing if not k.startswith('ln2.')]
    assert not missing, missing
    resized = []
    for key, value in loaded.items():
        if key in weights and value.shape == weights[key].shape:
            assert torch.equal(value, weights[key].to(value.dtype)), key
        elif key in weights:
            resized.append(key)  # position tables (and their indices) at the task's size
    assert all(k.endswith(('pos_embed', 'relative_position_bias_table',
                           'relative_position_index')) for k in resized), resized


def test_torchvision_and_timm_resnet50_exports_load_strictly_and_compute_the_same(tmp_path):
    timm = pytest.importorskip('timm')
    import torchvision
    torch.manual_seed(0)
    backbone = MIMResNet(depth=50, out_indices=(3, ))
    backbone.eval()
    source = save_pretraining_checkpoint(backbone, str(tmp_path / 'mim.pth'))
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = backbone(x)[0]
    for fmt in ('torchvision', 'timm'):
        export_backbone(source, str(tmp_path / f'{fmt}.pth'), fmt)
        weights = load_weights(str(tmp_path / f'{fmt}.pth'))
        if fmt == 'torchvision':
            model = torchvision.models.resnet50(weights=None)
            model.fc = torch.nn.Identity()
        else:
            model = timm.create_model('resnet50', num_classes=0)
        model.load_state_dict(weights, strict=True)
        model.eval()
        with torch.no_grad():
            pooled = model(x)
        assert torch.allclose(pooled, expected.mean(dim=(2, 3)), atol=1e-5), fmt


def test_vit_export_to_timm_beit_computes_the_same_features(tmp_path):
    pytest.importorskip('timm')
    from timm.models.beit import Beit
    torch.manual_seed(0)
    vit_arch = dict(embed_dims=64, num_layers=2, num_heads=4, feedforward_channels=256)
    backbone = MIMViT(arch=vit_arch, img_size=64, patch_size=16)
    backbone.eval()
    source = save_pretraining_checkpoint(backbone, str(tmp_path / 'mim.pth'))
    export_backbone(source, str(tmp_path / 'timm.pth'), 'timm')
    model = Beit(img_size=64, patch_size=16, num_classes=0, embed_dim=64, depth=2,
                 num_heads=4, mlp_ratio=4, use_abs_pos_emb=True, use_rel_pos_bias=True,
                 init_values=0.1, global_pool='token')
    missing, unexpected = model.load_state_dict(load_weights(str(tmp_path / 'timm.pth')),
                                                strict=False)
    assert not unexpected and all('relative_position_index' in k for k in missing)
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        ours = backbone(x)[0].flatten(2).transpose(1, 2)
        theirs = model.forward_features(x)[:, 1:]
    assert torch.allclose(ours, theirs, atol=1e-5)


def test_extraction_errors_name_the_problem(tmp_path):
    plain = str(tmp_path / 'plain.pth')
    torch.save({'state_dict': {'conv1.weight': torch.zeros(1)}}, plain)
    with pytest.raises(ValueError, match='no "backbone.\\*" weights .*not an MIM'):
        export_backbone(plain, str(tmp_path / 'out.pth'))
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        export_backbone(str(tmp_path / 'missing.pth'), str(tmp_path / 'out.pth'))
    source = save_pretraining_checkpoint(
        MIMViT(arch=dict(embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64),
               img_size=32), str(tmp_path / 'vit.pth'))
    with pytest.raises(ValueError, match='no torchvision equivalent'):
        export_backbone(source, str(tmp_path / 'out.pth'), 'torchvision')
