"""Stopping on a signal (one process, two gloo processes, Slurm script), wall-time
checkpoints, failed checkpoint saves and checkpoint rotation."""
import errno
import glob
import os
import os.path as osp
import shutil
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from collections import namedtuple

import pytest
import torch
from mmengine.fileio import LocalBackend
from mmengine.hooks import Hook
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from mim_agnostic.engine import CheckpointSaveError, Preempted
from mim_agnostic.engine.hooks import preemption_hook
from mim_agnostic.engine.training_stopped import human_size
from mim_agnostic.utils.safe_load import load_checkpoint_file
from conftest import REPO_ROOT, tool_env
from test_reliability import DEMO, SMALL_MODEL, Linear


# ------------------------------------------------------------------ in-process toy runs
class CountIterations(Hook):
    def __init__(self):
        self.count = 0

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.count += 1


def toy_runner(work_dir, max_epochs=3, max_keep_ckpts=2, hooks=(), resume=False):
    """4 iterations per epoch, an epoch checkpoint after every epoch."""
    return Runner(
        model=Linear(), work_dir=str(work_dir),
        train_dataloader=dict(dataset=[dict(inputs=torch.ones(2))] * 8, batch_size=2,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='AtomicCheckpointHook', interval=1,
                                           max_keep_ckpts=max_keep_ckpts)),
        custom_hooks=list(hooks), resume=resume, default_scope='mim_agnostic',
        experiment_name=f'preemption_{time.time_ns()}')


def names(pattern):
    return sorted(osp.basename(p) for p in glob.glob(str(pattern)))


def last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read()


class SignalSelf(Hook):
    priority = 'HIGHEST'

    def __init__(self, iteration, signum=signal.SIGTERM):
        self.iteration, self.signum = iteration, signum

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.iteration:
            os.kill(os.getpid(), self.signum)


class EvaluatesWithWorkers(Hook):
    """A hook that evaluates with its own DataLoaders (as OnlineKNNHook does)."""

    def before_train(self, runner):
        self.loaders = [DataLoader([torch.ones(2)] * 4, num_workers=1)]


def test_workers_of_every_loader_ignore_the_signals(tmp_path):
    """Slurm and torchrun signal every process: the workers of the train loader and of
    evaluating hooks must survive it, or the run dies instead of saving."""
    evaluator = EvaluatesWithWorkers()
    runner = toy_runner(tmp_path, max_epochs=1, hooks=[evaluator, dict(type='PreemptionHook')])
    runner.train()
    # no workers: nothing to protect
    assert not isinstance(runner.train_dataloader.worker_init_fn,
                          preemption_hook.IgnoreSignalsInWorker)
    (loader, ) = evaluator.loaders
    assert isinstance(loader.worker_init_fn, preemption_hook.IgnoreSignalsInWorker)
    assert loader.worker_init_fn.signals == (signal.SIGTERM, signal.SIGUSR1)


def test_a_signal_stops_at_the_next_check_with_a_checkpoint_there(tmp_path):
    handler_before = signal.getsignal(signal.SIGUSR1)
    runner = toy_runner(tmp_path, hooks=[
        SignalSelf(iteration=4, signum=signal.SIGUSR1),
        dict(type='PreemptionHook', check_interval=3)])  # checks after iterations 3, 6, ...
    with pytest.raises(Preempted, match=r'SIGUSR1: stopped after iteration 6 \(epoch 2, '
                                        r'batch 2 of 4\), saved to .*iter_6.pth; exit code '
                                        r'75.*--resume: it resumes from .*iter_6.pth') as stop:
        runner.train()
    assert stop.value.exit_code == 75
    assert names(tmp_path / '*.pth') == ['epoch_1.pth', 'iter_6.pth']
    assert last_checkpoint(tmp_path) == str(tmp_path / 'iter_6.pth')
    meta = load_checkpoint_file(str(tmp_path / 'iter_6.pth'))['meta']
    assert (meta['epoch'], meta['iter']) == (1, 6)  # epoch 2 is unfinished
    assert signal.getsignal(signal.SIGUSR1) == handler_before  # restored


def test_bad_preemption_settings_are_named():
    with pytest.raises(ValueError, match="'SIGKILL' is not a signal a process can handle"):
        preemption_hook.PreemptionHook(signals=('SIGTERM', 'SIGKILL'))
    with pytest.raises(ValueError, match='check_interval must be an integer >= 1, got 0'):
        preemption_hook.PreemptionHook(check_interval=0)


class FakeClock:
    """Stands for the wall clock: one second per iteration."""

    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now


class Tick(Hook):
    def __init__(self, clock):
        self.clock = clock

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.clock.now += 1


def test_wall_time_checkpoints_are_written_rotated_and_survive_a_resume(tmp_path,
                                                                        monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(preemption_hook, 'time', clock)
    timed = dict(type='PreemptionHook', interval_minutes=2.5 / 60, max_keep_ckpts=2)
    saved = CountIterations()
    toy_runner(tmp_path, max_epochs=3, hooks=[Tick(clock), timed, saved]).train()
    # every 3 iterations (3 s >= 2.5 s), the newest two kept; epoch checkpoints apart
    assert names(tmp_path / 'iter_*.pth') == ['iter_12.pth', 'iter_9.pth']
    assert names(tmp_path / 'epoch_*.pth') == ['epoch_2.pth', 'epoch_3.pth']
    assert load_checkpoint_file(str(tmp_path / 'iter_9.pth'))['meta']['iter'] == 9
    assert last_checkpoint(tmp_path).endswith('epoch_3.pth')
    # the resumed run rotates the checkpoints of the first one away in turn
    resumed = CountIterations()
    toy_runner(tmp_path, max_epochs=5, resume=True,
               hooks=[Tick(clock), timed, resumed]).train()
    assert resumed.count == 8
    assert names(tmp_path / 'iter_*.pth') == ['iter_15.pth', 'iter_18.pth']


@pytest.mark.parametrize('max_keep_ckpts, kept_after_3, kept_after_5', [
    (-1, [1, 2, 3], [1, 2, 3, 4, 5]), (1, [3], [5]), (3, [1, 2, 3], [3, 4, 5])])
def test_max_keep_ckpts_saves_rotates_and_resumes(tmp_path, max_keep_ckpts, kept_after_3,
                                                  kept_after_5):
    toy_runner(tmp_path, max_epochs=3, max_keep_ckpts=max_keep_ckpts).train()
    assert names(tmp_path / 'epoch_*.pth') == [f'epoch_{i}.pth' for i in kept_after_3]
    resumed = CountIterations()
    toy_runner(tmp_path, max_epochs=5, max_keep_ckpts=max_keep_ckpts, resume=True,
               hooks=[resumed]).train()
    assert resumed.count == 8  # epochs 4 and 5 only
    # the checkpoints of the first run are rotated out by the resumed one
    assert names(tmp_path / 'epoch_*.pth') == [f'epoch_{i}.pth' for i in kept_after_5]
    assert load_checkpoint_file(str(tmp_path / 'epoch_5.pth'))['meta']['iter'] == 20
    assert not glob.glob(str(tmp_path / '*.tmp'))


class FullDisk(Hook):
    """From epoch ``epoch`` (1-based) on, checkpoint writes stop half-way with ENOSPC."""

    def __init__(self, epoch, monkeypatch):
        self.epoch, self.monkeypatch = epoch, monkeypatch

    def before_train_epoch(self, runner):
        if runner.epoch + 1 == self.epoch:
            self.monkeypatch.setattr(LocalBackend, 'put', write_half_then_fail)


def write_half_then_fail(backend, obj, filepath):
    with open(filepath, 'wb') as f:
        f.write(obj[:len(obj) // 2])
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_save_that_fills_the_disk_stops_with_one_message_and_keeps_the_last(tmp_path,
                                                                              monkeypatch):
    runner = toy_runner(tmp_path, max_keep_ckpts=1, hooks=[FullDisk(3, monkeypatch)])
    with pytest.raises(CheckpointSaveError) as failure:
        runner.train()
    error, size = failure.value, osp.getsize(tmp_path / 'epoch_2.pth')
    assert str(error) == (
        f'could not save {tmp_path}/epoch_3.pth: [Errno 28] No space left on device '
        f'({human_size(error.written)} written; about {human_size(size)} needed (the size '
        f'of the previous checkpoint); {human_size(error.free)} free on that disk). The '
        f'partial file was removed; {tmp_path}/epoch_2.pth and last_checkpoint are '
        f'unchanged: make room, then run the same command with --resume to continue from '
        f'{tmp_path}/epoch_2.pth.')
    assert 0 < error.written < size and error.exit_code == 74
    assert names(tmp_path / '*.pth*') == ['epoch_2.pth']  # no .tmp left
    assert last_checkpoint(tmp_path) == f'{tmp_path}/epoch_2.pth'
    assert load_checkpoint_file(str(tmp_path / 'epoch_2.pth'))['meta']['epoch'] == 2
    assert runner.message_hub.get_info('keep_ckpt_ids') == [2]  # as before the failure


class NearlyFullDisk(Hook):
    """100 bytes free from epoch 3 on."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def before_train_epoch(self, runner):
        if runner.epoch + 1 == 3:
            usage = namedtuple('usage', 'total used free')(10**9, 10**9 - 100, 100)
            self.monkeypatch.setattr(shutil, 'disk_usage', lambda path: usage)


def test_a_save_that_cannot_fit_fails_before_writing(tmp_path, monkeypatch):
    runner = toy_runner(tmp_path, hooks=[NearlyFullDisk(monkeypatch)])
    with pytest.raises(CheckpointSaveError, match=r'epoch_3.pth: not enough free space \(0 B '
                                                  r'written; about .* needed .*; 100 B free'):
        runner.train()
    assert names(tmp_path / '*.pth*') == ['epoch_1.pth', 'epoch_2.pth']


# -------------------------------------------------------------------- real training runs
TEST_HOOKS = '''
import os
import signal
import subprocess

from mmengine.dist import get_rank
from mmengine.fileio import LocalBackend
from mmengine.hooks import Hook

from mim_agnostic.registry import HOOKS


@HOOKS.register_module()
class SignalAtIterationHook(Hook):
    """Records each finished iteration per rank; after iteration ``iteration`` (1-based) on
    rank ``rank``, sends SIGTERM to this process or, with ``group``, to its whole process
    group (data workers too, as Slurm does, from another process). With ``again_during_save``, another SIGTERM
    arrives when half of the checkpoint is written."""

    priority = 'HIGHEST'  # before the PreemptionHook looks at the same iteration

    def __init__(self, iteration, rank=0, group=False, again_during_save=False):
        self.iteration, self.rank = iteration, rank
        self.group, self.again_during_save = group, again_during_save

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        with open(os.path.join(runner.work_dir, f'progress_rank{get_rank()}'), 'a') as f:
            f.write(f'{runner.iter + 1}\\n')
        if runner.iter + 1 != self.iteration or get_rank() != self.rank:
            return
        if self.again_during_save:
            LocalBackend.put = write_with_a_signal_half_way
        if self.group:  # from another process, as Slurm does: PyTorch's data workers
            # exit quietly on a SIGTERM from their parent but die of anyone else's
            subprocess.run(['kill', '-TERM', '--', f'-{os.getpgid(0)}'])
        else:
            os.kill(os.getpid(), signal.SIGTERM)


def write_with_a_signal_half_way(backend, obj, filepath):
    with open(filepath, 'wb') as f:
        f.write(obj[:len(obj) // 2])
        f.flush()
        os.kill(os.getpid(), signal.SIGTERM)
        f.write(obj[len(obj) // 2:])


@HOOKS.register_module()
class FullDiskHook(Hook):
    """From epoch ``epoch`` (1-based) on, checkpoint writes stop half-way with ENOSPC."""

    def __init__(self, epoch):
        self.epoch = epoch

    def before_train_epoch(self, runner):
        if runner.epoch + 1 == self.epoch:
            LocalBackend.put = write_half_then_fail


put = LocalBackend.put


def write_half_then_fail(backend, obj, filepath):
    if not filepath.endswith('.pth.tmp'):  # only checkpoints: other files are small
        return put(backend, obj, filepath)
    with open(filepath, 'wb') as f:
        f.write(obj[:len(obj) // 2])
    raise OSError(28, 'No space left on device')
'''


def test_config(tmp_path, hook: str) -> str:
    (tmp_path / 'preemption_test_hooks.py').write_text(TEST_HOOKS)
    path = tmp_path / 'config.py'
    path.write_text(textwrap.dedent(f"""
        _base_ = [{DEMO!r}]
        custom_imports = dict(imports=['mim_agnostic', 'preemption_test_hooks'])
        custom_hooks = [dict(type='ReconstructionVisualizationHook', interval=1000), {hook}]
    """))
    return str(path)


test_config.__test__ = False  # a helper, not a test


def options(demo_root):
    """4 iterations of batch 8 per epoch (2 per process with two processes)."""
    return ['--cfg-options', f'train_dataloader.dataset.data_root={demo_root}/imagenet',
            'train_dataloader.batch_size=8', 'train_cfg.max_epochs=2', *SMALL_MODEL,
            'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1',
            'randomness.seed=0']


def launch(command, tmp_path, port=None):
    """Run a tool in a session of its own (a signal to its process group stays there)."""
    env = tool_env([str(tmp_path)])
    if port is not None:
        env['PORT'] = str(port)
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=600, start_new_session=True)
    return result.returncode, result.stdout + result.stderr


def progress(work_dir, rank):
    with open(osp.join(work_dir, f'progress_rank{rank}')) as f:
        return [int(line) for line in f]


def test_sigterm_mid_epoch_saves_that_iteration_and_resume_completes(tmp_path, demo_root):
    config = test_config(tmp_path, "dict(type='SignalAtIterationHook', iteration=6, "
                                   "group=True, again_during_save=True)")
    work_dir = tmp_path / 'work'
    command = [sys.executable, 'tools/train.py', config, '--work-dir', str(work_dir),
               *options(demo_root)]
    code, output = launch(command, tmp_path)
    assert code == 75, output[-3000:]
    assert (f'SIGTERM: stopped after iteration 6 (epoch 2, batch 2 of 4), saved to '
            f'{work_dir}/iter_6.pth; exit code 75. To continue, run the same command with '
            f'--resume: it resumes from {work_dir}/iter_6.pth.') in output
    assert '1 more signal(s) arrived before the stop (e.g. during the save)' in output
    assert 'DataLoader worker' not in output  # the workers ignored the group's SIGTERM
    assert progress(work_dir, 0) == [1, 2, 3, 4, 5, 6]
    assert names(work_dir / '*.pth*') == ['epoch_1.pth', 'iter_6.pth']
    assert last_checkpoint(work_dir) == f'{work_dir}/iter_6.pth'
    checkpoint = load_checkpoint_file(str(work_dir / 'iter_6.pth'))  # complete, loadable
    assert (checkpoint['meta']['epoch'], checkpoint['meta']['iter']) == (1, 6)

    code, output = launch(command[:5] + ['--resume'] + command[5:], tmp_path)
    assert code == 0, output[-3000:]
    assert 'resumed epoch: 1, iter: 6' in output
    assert load_checkpoint_file(str(work_dir / 'epoch_2.pth'))['meta']['epoch'] == 2


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_a_full_disk_during_a_real_save_exits_74_with_the_message(tmp_path, demo_root):
    config = test_config(tmp_path, "dict(type='FullDiskHook', epoch=2)")
    work_dir = tmp_path / 'work'
    code, output = launch([sys.executable, 'tools/train.py', config, '--work-dir',
                           str(work_dir), *options(demo_root)], tmp_path)
    assert code == 74, output[-3000:]
    assert (f'could not save {work_dir}/epoch_2.pth: [Errno 28] No space left on device ('
            in output)
    assert (f'{work_dir}/epoch_1.pth and last_checkpoint are unchanged: make room, then run '
            f'the same command with --resume to continue from {work_dir}/epoch_1.pth.'
            in output)
    assert 'Traceback' not in output
    assert names(work_dir / '*.pth*') == ['epoch_1.pth']  # no epoch_2.pth.tmp
    assert last_checkpoint(work_dir) == f'{work_dir}/epoch_1.pth'
    assert load_checkpoint_file(str(work_dir / 'epoch_1.pth'))['meta']['epoch'] == 1


# ----------------------------------------------------------------------- slurm_train.sh
FAKE_SRUN = '''#!/usr/bin/env bash
# records its arguments; exits with $FAKE_EXIT, or with 75 once it gets SIGUSR1
printf '%s\\n' "$@" > "$FAKE_LOG/srun_args"
trap 'echo USR1 >> "$FAKE_LOG/srun_signals"; exit 75' USR1
if [[ $FAKE_EXIT == wait ]]; then
    touch "$FAKE_LOG/srun_started"
    while :; do sleep 0.05; done
fi
exit "$FAKE_EXIT"
'''
FAKE_SCONTROL = '''#!/usr/bin/env bash
printf '%s\\n' "$@" > "$FAKE_LOG/scontrol_args"
'''


@pytest.fixture
def fake_slurm(tmp_path):
    """`srun` and `scontrol` stand-ins on PATH that record how the script calls them."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in [('srun', FAKE_SRUN), ('scontrol', FAKE_SCONTROL)]:
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(stat.S_IRWXU)

    def start(work_dir, exit_code, job_id=None, extra=()):
        env = dict(os.environ, PATH=f'{bin_dir}:{os.environ["PATH"]}', FAKE_LOG=str(tmp_path),
                   FAKE_EXIT=str(exit_code), GPUS='4', GPUS_PER_NODE='2')
        env.pop('SLURM_JOB_ID', None)
        if job_id is not None:
            env['SLURM_JOB_ID'] = job_id
        return subprocess.Popen(
            ['bash', 'tools/slurm_train.sh', 'gpu', 'job', 'configs/a2mim_r50.py',
             str(work_dir), *extra], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
    return start


def read_lines(path):
    with open(path) as f:
        return f.read().splitlines()


def test_slurm_script_asks_for_the_warning_and_resumes_when_it_can(tmp_path, fake_slurm):
    work_dir = tmp_path / 'work'
    script = fake_slurm(work_dir, 0, extra=['--amp'])
    assert script.wait(30) == 0
    args = read_lines(tmp_path / 'srun_args')
    assert args[:13] == ['-p', 'gpu', '--job-name=job', '--gres=gpu:2', '--ntasks=4',
                         '--ntasks-per-node=2', '--cpus-per-task=5', '--kill-on-bad-exit=1',
                         '--signal=USR1@120', 'python', '-u',
                         f'{REPO_ROOT}/tools/train.py', 'configs/a2mim_r50.py']
    assert args[13:] == [f'--work-dir={work_dir}', '--launcher=slurm', '--amp']  # fresh

    work_dir.mkdir()
    (work_dir / 'last_checkpoint').write_text(f'{work_dir}/iter_6.pth')
    script = fake_slurm(work_dir, 75)  # preempted outside a batch job: nothing to requeue
    output = script.communicate(timeout=30)[0]
    assert script.returncode == 75
    assert read_lines(tmp_path / 'srun_args')[13:] == [
        f'--work-dir={work_dir}', '--launcher=slurm', '--resume']
    assert f'resuming from {work_dir}/iter_6.pth' in output
    assert 'run the same command again to resume' in output
    assert not (tmp_path / 'scontrol_args').exists()


def test_slurm_batch_job_passes_the_warning_on_and_requeues(tmp_path, fake_slurm):
    work_dir = tmp_path / 'work'
    script = fake_slurm(work_dir, 'wait', job_id='4242')
    deadline = time.time() + 30
    while not (tmp_path / 'srun_started').exists():
        assert time.time() < deadline and script.poll() is None
        time.sleep(0.05)
    script.send_signal(signal.SIGUSR1)  # what #SBATCH --signal=B:USR1@120 sends
    output = script.communicate(timeout=30)[0]
    assert script.returncode == 75, output
    assert read_lines(tmp_path / 'srun_signals') == ['USR1']  # passed on to srun
    assert read_lines(tmp_path / 'scontrol_args') == ['requeue', '4242']
    assert 'requeueing job 4242' in output
    with open(osp.join(REPO_ROOT, 'tools', 'slurm_train.sh')) as f:
        assert {'#SBATCH --signal=B:USR1@120', '#SBATCH --requeue'} <= set(f.read().split('\n'))
