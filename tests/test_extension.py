"""The extension guide's worked example (docs/extending.md): a package outside mim_agnostic
registers a mask generator and a loss, and a config loads it with custom_imports and trains
the demo."""
import os.path as osp
import sys

import numpy as np
import pytest
import torch

from mim_agnostic.registry import MODELS, TRANSFORMS
from conftest import REPO_ROOT, run, scalars

PACKAGE_ROOT = osp.join(REPO_ROOT, 'examples', 'my_mim_ext')
CONFIG = 'examples/my_mim_ext/configs/a2mim_r50_stripes_demo.py'


@pytest.fixture
def my_mim_ext(monkeypatch):
    monkeypatch.syspath_prepend(PACKAGE_ROOT)
    import my_mim_ext
    return my_mim_ext


def test_the_package_registers_into_the_toolkit_registries(my_mim_ext):
    generator = TRANSFORMS.build(dict(type='StripeMaskGenerator', input_size=128,
                                      mask_patch_size=32, model_patch_size=16, mask_ratio=0.5))
    mask = generator(dict(img=np.zeros((128, 128, 3), np.uint8)))['mask']
    assert mask.shape == (8, 8)
    assert all(len(set(row)) == 1 for row in mask)  # whole rows
    assert mask[:, 0].sum() == 4  # ceil(0.5 * 4) rows of 2 tokens
    loss = MODELS.build(dict(type='MaskedCharbonnierLoss', eps=0.5))
    pred, target = torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 1.2)
    pixel_mask = torch.tensor([[[[1., 0.], [0., 0.]]]])
    assert loss(pred, target, pixel_mask).item() == pytest.approx(1.3, rel=1e-4)  # sqrt(1.69)


def test_custom_imports_config_trains_the_demo(demo_root, tmp_path):
    work_dir = str(tmp_path / 'ext')
    log = run([sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir,
               '--cfg-options', f'train_dataloader.dataset.data_root={demo_root}/imagenet',
               'train_dataloader.batch_size=8', 'train_cfg.max_epochs=2',
               'default_hooks.logger.interval=1', 'model.backbone.depth=18',
               'model.neck.in_channels=512'], pythonpath=[PACKAGE_ROOT])
    assert 'StripeMaskGenerator' in log and 'MaskedCharbonnierLoss' in log  # config dump
    records = scalars(work_dir)
    assert len(records) == 8 and all(np.isfinite(r['loss']) for r in records)
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))
    # without the package on the path the config fails at load time, naming the module
    with pytest.raises(AssertionError, match="No module named 'my_mim_ext'"):
        run([sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(tmp_path / 'x')])
