"""The stack fixes of mim_agnostic.utils.compat, exercised through the real stack."""
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
import torch
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, Runner
from torch import nn
from torch.utils.data import Dataset

from mim_agnostic.utils.safe_load import UnsafeCheckpointError
from conftest import REPO_ROOT


class ToyModel(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(inputs)
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else out


class ToyDataset(Dataset):
    metainfo = dict()

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return dict(inputs=torch.full((2, ), float(index)))


def toy_runner(work_dir, max_epochs, resume=False):
    return Runner(
        model=ToyModel(), work_dir=str(work_dir),
        train_dataloader=dict(dataset=ToyDataset(), batch_size=4,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        resume=resume, default_scope='mmengine', experiment_name=f'toy_{max_epochs}_{resume}')


class Evil:
    def __reduce__(self):
        return (print, ('this must never run', ))


def test_runner_checkpoint_resumes_under_weights_only(tmp_path):
    toy_runner(tmp_path, max_epochs=1).train()
    checkpoint = tmp_path / 'epoch_1.pth'
    loaded = torch.load(checkpoint)  # torch >= 2.6: weights_only=True by default
    assert {'meta', 'state_dict', 'message_hub', 'optimizer'} <= set(loaded)
    runner = toy_runner(tmp_path, max_epochs=2, resume=True)
    runner.train()
    assert runner.epoch == 2 and runner.iter == 4  # 2 epochs x 2 iterations, one resumed


def test_checkpoint_with_an_arbitrary_object_is_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'payload': Evil()}, path)
    with pytest.raises(UnsafeCheckpointError, match=r'refused to load .*evil.pth.*\(print\)'):
        CheckpointLoader.load_checkpoint(path, map_location='cpu')


def test_config_inheriting_mmpretrain_bases_builds_a_working_dataloader(tmp_path, demo_root):
    config = tmp_path / 'inherits_mmpretrain.py'
    config.write_text(textwrap.dedent(f"""
        _base_ = ['mmpretrain::_base_/datasets/imagenet_bs256_simmim_192.py']
        train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                                dataset=dict(data_root={osp.join(demo_root, 'imagenet')!r}))
    """))
    cfg = Config.fromfile(str(config))
    assert cfg.train_dataloader.collate_fn.get('_scope_') == 'mmpretrain'  # the trap
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    loader = Runner.build_dataloader(cfg.train_dataloader)
    batch = next(iter(loader))
    assert batch['inputs'].shape == (2, 3, 192, 192)
    assert batch['data_samples'][0].mask.shape == (48, 48)


def test_transformers5_disables_only_mmpretrain_multimodal(tmp_path):
    dist_info = tmp_path / 'transformers-5.0.0.dist-info'
    dist_info.mkdir()
    (dist_info / 'METADATA').write_text('Metadata-Version: 2.1\nName: transformers\n'
                                        'Version: 5.0.0\n')
    code = textwrap.dedent("""
        import mim_agnostic
        from mim_agnostic.utils.compat import transformers_major_version
        import mmpretrain.models
        from mmpretrain.utils import dependency
        assert transformers_major_version() == 5
        assert dependency.WITH_MULTIMODAL is False
        assert mmpretrain.models.ResNet is not None
        print('ok')
    """)
    env = {'PYTHONPATH': f'{tmp_path}:{REPO_ROOT}', 'PATH': '/usr/bin:/bin'}
    result = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith('ok')


def test_package_lookups_do_not_need_pkg_resources():
    from mmengine.utils import package_utils
    assert package_utils.is_installed('mmpretrain')
    assert not package_utils.is_installed('surely_not_a_package_name')
    assert osp.isdir(osp.join(package_utils.get_installed_path('mmpretrain'), '.mim', 'configs'))
