"""Faults a long run meets: SIGKILL between and during checkpoints, checkpoints from
strangers (pickled code, wrong architecture, truncated files), and CPU DDP over gloo."""
import glob
import os
import os.path as osp
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, Runner
from torch import nn

from mim_agnostic.models.backbones import MIMResNet, MIMViT
from mim_agnostic.registry import MODELS
from mim_agnostic.utils.safe_load import UnsafeCheckpointError, load_checkpoint_file
from conftest import REPO_ROOT, run, scalars, tool_env

DEMO = osp.join(REPO_ROOT, 'configs', 'demo', 'a2mim_r50_demo.py')
SMALL_MODEL = ('model.backbone.depth=18', 'model.neck.in_channels=512')  # the demo, faster


# ------------------------------------------------------------------ atomic checkpoints
class Linear(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return dict(loss=self.linear(inputs).pow(2).mean())


def toy_runner(work_dir, hook_type):
    return Runner(
        model=Linear(), work_dir=str(work_dir),
        train_dataloader=dict(dataset=[dict(inputs=torch.ones(2))] * 4, batch_size=2,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=False, max_iters=2),
        default_hooks=dict(checkpoint=dict(type=hook_type, by_epoch=False, interval=2,
                                           max_keep_ckpts=1)),
        default_scope='mim_agnostic', experiment_name=f'atomic_{hook_type}')


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (not an Exception)."""


def kill_during_save(runner, monkeypatch):
    """The next checkpoint write dies half-way (as under SIGKILL or a full disk)."""
    def write_half_then_die(checkpoint, filename, **kwargs):
        with open(filename, 'wb') as f:
            f.write(b'PK\x03\x04 half a checkpoint')
        raise Killed

    hook = next(h for h in runner.hooks if 'Checkpoint' in type(h).__name__)
    with monkeypatch.context() as patch, pytest.raises(Killed):
        patch.setattr('mmengine.runner.runner.save_checkpoint', write_half_then_die)
        hook._save_checkpoint_with_step(runner, 4, meta=dict())


def test_a_kill_during_a_save_keeps_last_checkpoint_loadable(tmp_path, monkeypatch):
    runner = toy_runner(tmp_path / 'atomic', 'AtomicCheckpointHook')
    runner.train()
    kill_during_save(runner, monkeypatch)
    with open(tmp_path / 'atomic' / 'last_checkpoint') as f:
        last = f.read()
    assert last.endswith('iter_2.pth')
    assert load_checkpoint_file(last)['meta']['iter'] == 2
    assert not osp.exists(tmp_path / 'atomic' / 'iter_4.pth')  # only the .tmp, never final
    hook = next(h for h in runner.hooks if type(h).__name__ == 'AtomicCheckpointHook')
    hook._save_checkpoint_with_step(runner, 4, meta=dict())  # the next save rotates as usual
    assert sorted(glob.glob(str(tmp_path / 'atomic' / 'iter_*'))) == \
        [str(tmp_path / 'atomic' / 'iter_4.pth')]  # iter_2 rotated out, no .tmp left
    with open(tmp_path / 'atomic' / 'last_checkpoint') as f:
        assert f.read().endswith('iter_4.pth')
    # mmengine's own hook deletes the previous checkpoint before writing the new one
    runner = toy_runner(tmp_path / 'plain', 'CheckpointHook')
    runner.train()
    kill_during_save(runner, monkeypatch)
    with open(tmp_path / 'plain' / 'last_checkpoint') as f:
        assert not osp.exists(f.read())  # nothing left to resume from


# ---------------------------------------------------------------- exact resume after kill
def train_command(work_dir, demo_root, *extra):
    return [sys.executable, 'tools/train.py', DEMO, '--work-dir', str(work_dir), *extra,
            '--cfg-options', f'train_dataloader.dataset.data_root={demo_root}/imagenet',
            'train_dataloader.batch_size=8', 'train_cfg.max_epochs=3',
            *SMALL_MODEL,
            'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1',
            'default_hooks.checkpoint.max_keep_ckpts=1', 'custom_hooks.0.interval=1000',
            'randomness.seed=0', 'randomness.deterministic=True']


SIGKILL_HOOK = '''
import os
import signal
from mmengine.hooks import Hook
from mim_agnostic.registry import HOOKS


@HOOKS.register_module()
class SigkillAtIterationHook(Hook):
    """SIGKILL this process after iteration ``iteration``: no exception, no cleanup."""

    def __init__(self, iteration):
        self.iteration = iteration

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.iteration:
            os.kill(os.getpid(), signal.SIGKILL)
'''


def test_sigkill_mid_epoch_then_resume_gives_the_uninterrupted_weights(tmp_path, demo_root):
    run(train_command(tmp_path / 'straight', demo_root))
    (tmp_path / 'sigkill_hook.py').write_text(SIGKILL_HOOK)
    killing = tmp_path / 'killing.py'
    killing.write_text(textwrap.dedent(f"""
        _base_ = [{DEMO!r}]
        custom_imports = dict(imports=['mim_agnostic', 'sigkill_hook'])
        # 4 iterations per epoch: killed in epoch 3, after epoch_2.pth, before epoch_3.pth
        custom_hooks = [dict(type='ReconstructionVisualizationHook', interval=1000),
                        dict(type='SigkillAtIterationHook', iteration=10)]
    """))
    work_dir = tmp_path / 'killed'
    command = train_command(work_dir, demo_root)
    command[2] = str(killing)
    killed = subprocess.run(command, cwd=REPO_ROOT, env=tool_env([str(tmp_path)]),
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert sorted(osp.basename(p) for p in glob.glob(str(work_dir / 'epoch_*.pth'))) == \
        ['epoch_2.pth']
    log = run(train_command(work_dir, demo_root, '--resume'))
    assert 'resumed epoch: 2, iter: 8' in log
    straight = load_checkpoint_file(str(tmp_path / 'straight' / 'epoch_3.pth'))
    resumed = load_checkpoint_file(str(work_dir / 'epoch_3.pth'))
    for key, value in straight['state_dict'].items():
        assert torch.equal(value, resumed['state_dict'][key]), key  # bit for bit
    for key, state in straight['optimizer']['state'].items():
        for name, value in state.items():
            assert torch.equal(value, resumed['optimizer']['state'][key][name]), (key, name)
    assert straight['param_schedulers'] == resumed['param_schedulers']


# ------------------------------------------------------------ checkpoints from strangers
class Payload:
    """Unpickling this runs a shell command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


@pytest.fixture
def evil_checkpoint(tmp_path):
    marker = tmp_path / 'pwned'
    path = str(tmp_path / 'evil.pth')
    weights = {f'backbone.{k}': v for k, v in MIMResNet(depth=50).state_dict().items()}
    torch.save(dict(state_dict=weights, meta=dict(note=Payload(marker))), path)
    return path, marker


def test_every_loading_path_refuses_pickled_code(evil_checkpoint, demo_root, tmp_path):
    path, marker = evil_checkpoint
    message = r'refused to load .*evil.pth.*\(posix.system\)'
    with pytest.raises(UnsafeCheckpointError, match=message):  # load_from / resume / tools
        CheckpointLoader.load_checkpoint(path, map_location='cpu')
    backbone = MODELS.build(dict(type='ResNet', depth=50, init_cfg=dict(
        type='Pretrained', checkpoint=path, prefix='backbone.')))
    with pytest.raises(UnsafeCheckpointError, match=message):  # init_cfg Pretrained
        backbone.init_weights()
    outputs = [
        run([sys.executable, 'tools/extract_backbone.py', path, str(tmp_path / 'out.pth')],
            expect_failure=True),
        run([sys.executable, 'tools/visualize_reconstruction.py', DEMO, path,
             sorted(glob.glob(f'{demo_root}/imagenet/val/*/*'))[0], '--out',
             str(tmp_path / 'r.png')], expect_failure=True),
        run([sys.executable, 'tools/train.py', DEMO, '--work-dir', str(tmp_path / 'w'),
             '--resume', path, '--cfg-options',
             f'train_dataloader.dataset.data_root={demo_root}/imagenet'],
            expect_failure=True),
    ]
    for output in outputs:
        assert 'refused to load' in output and 'posix.system' in output, output[-2000:]
    assert not marker.exists()  # the payload never ran


def test_a_checkpoint_of_another_architecture_is_an_error_not_a_random_model(tmp_path):
    vit = str(tmp_path / 'vit.pth')
    torch.save(dict(state_dict=MIMViT(arch='small', img_size=64).state_dict()), vit)
    backbone = MODELS.build(dict(type='ResNet', depth=50,
                                 init_cfg=dict(type='Pretrained', checkpoint=vit)))
    with pytest.raises(ValueError, match=r'vit.pth does not fit ResNet: only 0 of \d+ weights '
                                         r'match.*different architecture'):
        backbone.init_weights()
    output = run([sys.executable, 'tools/extract_backbone.py', vit, str(tmp_path / 'o.pth')],
                 expect_failure=True)
    assert 'holds no "backbone.*" weights' in output


def test_a_truncated_checkpoint_is_reported_as_such(tmp_path):
    path = tmp_path / 'cut.pth'
    torch.save(dict(state_dict=MIMResNet(depth=18).state_dict()), path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match='cut.pth is not a readable checkpoint '
                                         r'\(truncated or corrupt\?\)'):
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')


# ------------------------------------------------------------------------ DDP over gloo
def write_config(tmp_path, body: str) -> str:
    path = tmp_path / 'ddp_demo.py'
    path.write_text(f"_base_ = [{DEMO!r}]\n" + textwrap.dedent(body))
    return str(path)


DETERMINISTIC_DATA = """
    # no random augmentation: both runs see exactly the same pixels and masks
    train_dataloader = dict(dataset=dict(pipeline=[
        dict(type='CheckedLoadImageFromFile'),
        dict(type='Resize', scale=(128, 128)),
        dict(type='CheckerboardMaskGenerator', input_size=128, mask_patch_size=16,
             model_patch_size=16, momentum_scale=None),
        dict(type='PackInputs'),
    ]))
    # per-sample normalisation (GroupNorm) and a per-pixel loss: a global batch split over
    # two processes has the same gradient as the whole batch in one
    model = dict(backbone=dict(norm_cfg=dict(type='GN', num_groups=32, requires_grad=True)),
                 head=dict(fft_weight=0.0))
"""


def test_two_gloo_processes_follow_one_process_with_the_same_global_batch(tmp_path,
                                                                            demo_root):
    config = write_config(tmp_path, DETERMINISTIC_DATA)
    options = ['--cfg-options', f'train_dataloader.dataset.data_root={demo_root}/imagenet',
               'train_cfg.max_epochs=3', 'default_hooks.logger.interval=1',
               'default_hooks.checkpoint.interval=3', 'custom_hooks.0.interval=1000',
               'randomness.seed=0', *SMALL_MODEL]
    run([sys.executable, 'tools/train.py', config, '--work-dir', str(tmp_path / 'one')] +
        options + ['train_dataloader.batch_size=16'])
    log = run(['bash', 'tools/dist_train.sh', config, '2', '--work-dir',
               str(tmp_path / 'two')] + options + ['train_dataloader.batch_size=8'])
    assert 'Distributed training: True' in log
    one, two = scalars(tmp_path / 'one'), scalars(tmp_path / 'two')
    assert [r['step'] for r in one] == [r['step'] for r in two] == list(range(1, 7))
    # rank 0 logs the loss of its half of the global batch
    for a, b in zip(one, two):
        assert b['loss'] == pytest.approx(a['loss'], rel=0.15)
    weights_one = load_checkpoint_file(str(tmp_path / 'one' / 'epoch_3.pth'))['state_dict']
    weights_two = load_checkpoint_file(str(tmp_path / 'two' / 'epoch_3.pth'))['state_dict']
    # the same trajectory up to float summation order (Adam amplifies the last bits of
    # near-zero gradients a little); a different seed would differ by ~100 %
    keys = [k for k, v in weights_one.items() if v.is_floating_point()]
    difference = torch.cat([(weights_one[k] - weights_two[k]).flatten() for k in keys])
    scale = torch.cat([weights_one[k].flatten() for k in keys])
    relative = float(difference.norm() / scale.norm())
    worst = max(keys, key=lambda k: float((weights_one[k] - weights_two[k]).abs().max()))
    print(f'relative weight difference, 1 vs 2 processes: {relative:.2e}; largest element '
          f'difference {float((weights_one[worst] - weights_two[worst]).abs().max()):.2e} '
          f'in {worst}')
    assert relative < 1e-4


CRASH_HOOK = '''
import os
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mim_agnostic.registry import HOOKS


@HOOKS.register_module()
class CrashOnRankHook(Hook):
    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if get_rank() == 1 and runner.iter >= 1:
            os._exit(17)  # a hard crash: no exception, no cleanup
'''


def test_a_crashing_worker_makes_the_launcher_exit_non_zero(tmp_path, demo_root):
    (tmp_path / 'crash_hook.py').write_text(CRASH_HOOK)
    config = write_config(tmp_path, """
        custom_imports = dict(imports=['mim_agnostic', 'crash_hook'])
        custom_hooks = [dict(type='CrashOnRankHook')]
    """)
    start = time.time()
    output = run(['bash', 'tools/dist_train.sh', config, '2', '--work-dir',
                  str(tmp_path / 'w'), '--cfg-options',
                  f'train_dataloader.dataset.data_root={demo_root}/imagenet',
                  'train_dataloader.batch_size=8', 'train_cfg.max_epochs=50', *SMALL_MODEL],
                 timeout=600, pythonpath=[str(tmp_path)], expect_failure=True)
    assert 'exitcode  : 17' in output or 'exitcode: 17' in output, output[-3000:]
    assert time.time() - start < 300  # no hang waiting for the dead rank
