"""Mid-epoch exact resume: per-sample seeding, the resumable sampler and the resumable
epoch loop (a run stopped in the middle of an epoch ends as an uninterrupted one)."""
import glob
import os.path as osp
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import DefaultSampler
from mmengine.hooks import Hook
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from mim_agnostic.datasets import ResumableSampler, SampleKey, SampleSeededDataset
from mim_agnostic.utils.safe_load import load_checkpoint_file
from conftest import REPO_ROOT, run, tool_env
from test_preemption import TEST_HOOKS, free_port, launch, names, progress
from test_reliability import DEMO, SIGKILL_HOOK, SMALL_MODEL, Linear


# ------------------------------------------------------------------ per-sample seeding
def demo_train_dataset(demo_root) -> SampleSeededDataset:
    """The demo config's train dataset (crop, flip, block mask) on the test data."""
    cfg = Config.fromfile(DEMO).train_dataloader.dataset
    cfg.data_root = f'{demo_root}/imagenet'
    dataset = SampleSeededDataset(cfg)
    dataset.full_init()
    return dataset


def crops_and_masks(samples) -> dict:
    """{(epoch, index): (crop uint8 (3, H, W), mask (H/16, W/16))} of (key, sample) pairs."""
    return {(key.epoch, key.index): (sample['inputs'], sample['data_samples'].mask)
            for key, sample in samples}


def through_loader(dataset, num_workers: int, persistent: bool, epochs=(0, 1)) -> dict:
    """Every sample of ``epochs`` as a DataLoader with these workers delivers them; the
    epoch reaches the workers only through the sampler's keys."""
    sampler = ResumableSampler(dataset, shuffle=True, seed=7, sample_keys=True)
    loader = DataLoader(dataset, batch_size=4, sampler=sampler, num_workers=num_workers,
                        persistent_workers=persistent, collate_fn=list)
    samples = []
    for epoch in epochs:
        sampler.set_epoch(epoch)
        keys = list(sampler)
        delivered = [sample for batch in loader for sample in batch]
        samples += zip(keys, delivered)
    return crops_and_masks(samples)


def test_a_sample_is_a_function_of_seed_epoch_and_index_in_any_worker(demo_root):
    dataset = demo_train_dataset(demo_root)
    num_images = len(dataset)
    # reference: in this process, in reverse order, with other draws in between
    reference = {}
    for epoch in (1, 0):
        for index in reversed(range(num_images)):
            np.random.rand(index + 1), torch.rand(3)
            sample = dataset[SampleKey(7, epoch, index)]
            reference[epoch, index] = (sample['inputs'], sample['data_samples'].mask)
    for num_workers, persistent in [(2, True), (1, False), (0, False)]:
        delivered = through_loader(dataset, num_workers, persistent)
        assert delivered.keys() == reference.keys()
        for key, (crop, mask) in reference.items():
            assert torch.equal(delivered[key][0], crop), (num_workers, persistent, key)
            assert torch.equal(delivered[key][1], mask), (num_workers, persistent, key)
    for index in range(num_images):  # another epoch: another crop and mask
        assert not torch.equal(reference[0, index][0], reference[1, index][0])
        assert not torch.equal(reference[0, index][1], reference[1, index][1])
    # another index: another mask (10 of 16 blocks: 8008 masks; seed 7 gives no repeat)
    masks = {tuple(reference[0, index][1].flatten().tolist()) for index in range(num_images)}
    assert len(masks) == num_images
    # the sample's randomness depends on the seed too
    other_seed = dataset[SampleKey(8, 0, 0)]
    assert not torch.equal(other_seed['data_samples'].mask, reference[0, 0][1])


def test_an_int_index_reads_without_reseeding_and_other_keys_are_refused(demo_root):
    dataset = demo_train_dataset(demo_root)
    np.random.seed(0)
    first = dataset[3]['data_samples'].mask
    np.random.seed(0)
    assert torch.equal(dataset[np.int64(3)]['data_samples'].mask, first)
    with pytest.raises(TypeError, match='SampleKey .*or an int, got'):
        dataset['3']


# ---------------------------------------------------------------------- sampler offset
@pytest.mark.parametrize('world_size', [1, 2])
def test_a_resumed_epoch_yields_the_tail_of_the_uninterrupted_order(monkeypatch, world_size):
    dataset = list(range(29))
    # DefaultSampler's order: randperm with seed + epoch, padded to a multiple of the world
    # size with its own head, rank r takes every world_size-th from r
    permutation = torch.randperm(29, generator=torch.Generator().manual_seed(3 + 2)).tolist()
    padded = (permutation * 2)[:29 + (-29) % world_size]
    for rank in range(world_size):
        monkeypatch.setattr('mmengine.dataset.sampler.get_dist_info',
                            lambda: (rank, world_size))
        sampler = ResumableSampler(dataset, shuffle=True, seed=3)
        default = DefaultSampler(dataset, shuffle=True, seed=3)
        sampler.set_epoch(2)
        default.set_epoch(2)
        epoch = list(sampler)
        assert epoch == list(default) == padded[rank::world_size]
        sampler.skip_next_epoch_start(6)
        assert list(sampler) == epoch[6:]
        assert list(sampler) == epoch  # the skip applies to one epoch only
        sampler.skip_next_epoch_start(len(epoch))
        assert list(sampler) == []
        with pytest.raises(ValueError, match=f'cannot skip {len(epoch) + 1} samples'):
            sampler.skip_next_epoch_start(len(epoch) + 1)
        sampler.sample_keys = True
        sampler.skip_next_epoch_start(6)
        assert list(sampler) == [SampleKey(3, 2, index) for index in epoch[6:]]


# ------------------------------------------------------------------ the loop, in process
class RecordBatches(Hook):
    """Records (epoch, batch index) of every trained iteration."""

    def __init__(self):
        self.trained = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.trained.append((runner.epoch, batch_idx))


def toy_runner(work_dir, sampler_type='ResumableSampler', batch_size=2, resume_from=None,
               hooks=(), loop='ResumableEpochBasedTrainLoop',
               checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=3)):
    """2 epochs of 8 samples; by default a checkpoint every 3 iterations."""
    return Runner(
        model=Linear(), work_dir=str(work_dir),
        train_dataloader=dict(dataset=[dict(inputs=torch.ones(2))] * 8, batch_size=batch_size,
                              sampler=dict(type=sampler_type, shuffle=True),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(type=loop, max_epochs=2), default_hooks=dict(checkpoint=checkpoint),
        custom_hooks=list(hooks), load_from=resume_from, resume=resume_from is not None,
        randomness=dict(seed=0), default_scope='mim_agnostic',
        experiment_name=f'loop_{abs(hash(str(work_dir)))}')


def test_the_loop_continues_the_epoch_of_the_checkpoint_at_its_next_batch(tmp_path):
    with pytest.raises(TypeError, match="seed_per_sample=True needs train_dataloader.sampler"
                                        ".type='ResumableSampler', got DefaultSampler"):
        toy_runner(tmp_path / 'default', 'DefaultSampler').train()
    runner = toy_runner(tmp_path / 'first')
    runner.train()
    assert runner.iter == 8
    assert isinstance(runner.train_dataloader.dataset, SampleSeededDataset)
    checkpoint = str(tmp_path / 'first' / 'iter_3.pth')  # epoch 1, batch 3 of 4 done
    record = RecordBatches()
    resumed = toy_runner(tmp_path / 'resumed', resume_from=checkpoint, hooks=[record])
    resumed.train()
    assert record.trained == [(0, 3), (1, 0), (1, 1), (1, 2), (1, 3)]
    assert (resumed.epoch, resumed.iter) == (2, 8)
    with pytest.raises(ValueError, match='cannot resume in the middle of epoch 1: the '
                                         'checkpoint was saved after 3 of its 4 iterations, '
                                         'but this run has 2 iterations per epoch'):
        toy_runner(tmp_path / 'other_batch', batch_size=4, resume_from=checkpoint).train()


def test_epoch_ends_and_checkpoints_of_mmengines_loop_resume_at_the_next_epoch(tmp_path):
    # a checkpoint of mmengine's EpochBasedTrainLoop (before this loop existed), at an epoch
    old = toy_runner(tmp_path / 'old', loop='EpochBasedTrainLoop',
                     checkpoint=dict(type='CheckpointHook', interval=1))
    old.train()
    # an iteration checkpoint after the last batch of epoch 1, before its epoch-end hooks
    last_batch = toy_runner(tmp_path / 'last_batch',
                            checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4))
    last_batch.train()
    for checkpoint in (tmp_path / 'old' / 'epoch_1.pth', tmp_path / 'last_batch' / 'iter_4.pth'):
        record = RecordBatches()
        resumed = toy_runner(tmp_path / f'resumed_{checkpoint.stem}', hooks=[record],
                             resume_from=str(checkpoint))
        resumed.train()
        assert record.trained == [(1, 0), (1, 1), (1, 2), (1, 3)], checkpoint
        assert (resumed.epoch, resumed.iter) == (2, 8)


# --------------------------------------------------- stop mid-epoch, resume, compare
def config_with_hooks(tmp_path, *hooks: str) -> str:
    """The demo config with the test hooks (SIGKILL, SIGTERM at an iteration) added."""
    (tmp_path / 'sigkill_hook.py').write_text(SIGKILL_HOOK)
    (tmp_path / 'preemption_test_hooks.py').write_text(TEST_HOOKS)
    path = tmp_path / 'config.py'
    path.write_text(textwrap.dedent(f"""
        _base_ = [{DEMO!r}]
        custom_imports = dict(imports=['mim_agnostic', 'sigkill_hook', 'preemption_test_hooks'])
        custom_hooks = [dict(type='ReconstructionVisualizationHook', interval=1000),
                        {', '.join(hooks)}]
    """))
    return str(path)


def demo_options(demo_root, *options) -> list:
    """2 epochs of the ResNet-18 demo at 64 px with drop path (the model draws random numbers
    too), batch 8 per process (4 iterations per epoch, 2 with two processes), epoch
    checkpoints; ``options`` added."""
    return ['--cfg-options', f'train_dataloader.dataset.data_root={demo_root}/imagenet',
            'train_dataloader.batch_size=8', 'train_dataloader.dataset.pipeline.1.scale=64',
            'train_dataloader.dataset.pipeline.3.input_size=64', 'train_cfg.max_epochs=2',
            *SMALL_MODEL, 'model.backbone.drop_path_rate=0.1', 'custom_hooks.0.interval=1000',
            'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1',
            'randomness.seed=0', 'randomness.deterministic=True', *options]


def train(config, work_dir, demo_root, *options, resume=False, processes=1) -> list:
    """The command line of tools/train.py, or of tools/dist_train.sh with ``processes``."""
    launcher = [sys.executable, 'tools/train.py', config] if processes == 1 else \
        ['bash', 'tools/dist_train.sh', config, str(processes)]
    return launcher + ['--work-dir', str(work_dir), *(['--resume'] if resume else []),
                       *demo_options(demo_root, *options)]


def workers(num_workers: int, persistent: bool) -> tuple:
    return (f'train_dataloader.num_workers={num_workers}',
            f'train_dataloader.persistent_workers={persistent}')


def assert_same_training_state(expected_path, actual_path) -> None:
    """Weights, optimizer and scheduler states equal, bit for bit."""
    expected = load_checkpoint_file(str(expected_path))
    actual = load_checkpoint_file(str(actual_path))
    assert expected['meta']['iter'] == actual['meta']['iter']
    assert expected['state_dict'].keys() == actual['state_dict'].keys()
    for key, value in expected['state_dict'].items():
        assert torch.equal(value, actual['state_dict'][key]), key
    assert expected['optimizer']['state'].keys() == actual['optimizer']['state'].keys()
    for key, state in expected['optimizer']['state'].items():
        for name, value in state.items():
            assert torch.equal(value, actual['optimizer']['state'][key][name]), (key, name)
    assert expected['optimizer']['param_groups'] == actual['optimizer']['param_groups']
    assert expected['param_schedulers'] == actual['param_schedulers']


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory, demo_root):
    """The final checkpoint of the single-process run nobody stopped (data loaded in the
    training process)."""
    work_dir = tmp_path_factory.mktemp('uninterrupted')
    run(train(DEMO, work_dir, demo_root, *workers(0, False)))
    return work_dir / 'epoch_2.pth'


def test_sigkill_after_a_time_based_checkpoint_then_resume_with_other_workers(
        tmp_path, demo_root, uninterrupted):
    # wall-time checkpoints after every iteration; killed after iteration 7 (epoch 2, batch
    # 3 of 4) before its own: the newest is iter_6.pth
    config = config_with_hooks(tmp_path, "dict(type='SigkillAtIterationHook', iteration=7)")
    work_dir = tmp_path / 'work'
    killed = subprocess.run(
        train(config, work_dir, demo_root, *workers(2, True),
              'default_hooks.preemption.interval_minutes=0.0001'),
        cwd=REPO_ROOT, env=tool_env([str(tmp_path)]), capture_output=True, text=True,
        timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert sorted(osp.basename(p) for p in glob.glob(str(work_dir / '*.pth'))) == \
        ['epoch_1.pth', 'iter_5.pth', 'iter_6.pth']
    checkpoint = load_checkpoint_file(str(work_dir / 'iter_6.pth'))
    assert (checkpoint['meta']['epoch'], checkpoint['meta']['iter']) == (1, 6)

    log = run(train(DEMO, work_dir, demo_root, *workers(1, False), resume=True))
    assert 'resumed epoch: 1, iter: 6' in log
    assert 'resuming epoch 2 at iteration 3 of 4' in log
    assert 'Epoch(train) [2][3/4]' in log and 'Epoch(train) [2][1/4]' not in log
    assert_same_training_state(uninterrupted, work_dir / 'epoch_2.pth')


def test_sigterm_mid_epoch_then_resume_with_other_workers(tmp_path, demo_root, uninterrupted):
    # SIGTERM to the process group (data workers too, as Slurm does) after iteration 5
    # (epoch 2, batch 1 of 4)
    config = config_with_hooks(
        tmp_path, "dict(type='SignalAtIterationHook', iteration=5, group=True)")
    work_dir = tmp_path / 'work'
    code, output = launch(train(config, work_dir, demo_root, *workers(2, True)), tmp_path)
    assert code == 75, output[-3000:]
    assert 'SIGTERM: stopped after iteration 5 (epoch 2, batch 1 of 4)' in output
    checkpoint = load_checkpoint_file(str(work_dir / 'iter_5.pth'))
    assert (checkpoint['meta']['epoch'], checkpoint['meta']['iter']) == (1, 5)

    log = run(train(DEMO, work_dir, demo_root, *workers(1, False), resume=True))
    assert 'resuming epoch 2 at iteration 2 of 4' in log
    assert_same_training_state(uninterrupted, work_dir / 'epoch_2.pth')


def test_sigterm_to_one_of_two_gloo_processes_then_resume(tmp_path, demo_root):
    """Two processes, SIGTERM to rank 1 only after iteration 3 (epoch 2, batch 1 of 2)."""
    reference = tmp_path / 'uninterrupted'
    launched = launch(train(DEMO, reference, demo_root, *workers(0, False), processes=2),
                      tmp_path, port=free_port())
    assert launched[0] == 0, launched[1][-3000:]
    config = config_with_hooks(tmp_path, "dict(type='SignalAtIterationHook', iteration=3, "
                                         "rank=1)")
    work_dir = tmp_path / 'work'
    code, output = launch(train(config, work_dir, demo_root, *workers(1, True), processes=2),
                          tmp_path, port=free_port())
    assert code != 0 and ': 75' in output, output[-3000:]
    assert 'SIGTERM: stopped after iteration 3 (epoch 2, batch 1 of 2)' in output
    assert progress(work_dir, 0) == progress(work_dir, 1) == [1, 2, 3]
    assert names(work_dir / '*.pth*') == ['epoch_1.pth', 'iter_3.pth']  # one checkpoint
    assert load_checkpoint_file(str(work_dir / 'iter_3.pth'))['meta']['iter'] == 3

    code, output = launch(train(DEMO, work_dir, demo_root, *workers(2, False), resume=True,
                                processes=2), tmp_path, port=free_port())
    assert code == 0, output[-3000:]
    assert 'resuming epoch 2 at iteration 2 of 2' in output
    assert_same_training_state(reference / 'epoch_2.pth', work_dir / 'epoch_2.pth')
