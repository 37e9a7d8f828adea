"""Stop cleanly when the scheduler says so, and save on a wall-clock timer."""
import os.path as osp
import signal
import threading
import time
from typing import Callable, List, Optional, Sequence, Tuple

import torch
from mmengine.dist import all_reduce, get_world_size, is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook, Hook
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from mim_agnostic.engine.hooks.atomic_checkpoint_hook import (remove_if_present,
                                                              save_checkpoint_atomically)
from mim_agnostic.engine.training_stopped import PREEMPTED_EXIT_CODE, Preempted
from mim_agnostic.registry import HOOKS

KEPT_IDS_KEY = 'preemption_ckpt_ids'  # message hub: iterations of the kept checkpoints


def parse_signals(names: Sequence[str]) -> Tuple[signal.Signals, ...]:
    """``('SIGTERM', 'SIGUSR1')`` -> signal numbers; a clear error for anything else."""
    parsed = []
    for name in names:
        if name not in signal.Signals.__members__ or name in ('SIGKILL', 'SIGSTOP'):
            raise ValueError(f'PreemptionHook signals: {name!r} is not a signal a process can '
                             'handle; expected names like "SIGTERM", "SIGUSR1"')
        parsed.append(signal.Signals[name])
    return tuple(parsed)


class IgnoreSignalsInWorker:
    """A DataLoader ``worker_init_fn`` that makes the worker ignore ``signals``, then runs
    the loader's own ``worker_init_fn``.

    Slurm (and torchrun, with ``killpg``) signal every process of a task. PyTorch's worker
    dies of a SIGTERM that its parent did not send, and the main process then fails at an
    arbitrary moment, possibly in the middle of the checkpoint save. The workers stop when
    the main process does.
    """

    def __init__(self, signals: Sequence[int], init_fn: Optional[Callable[[int], None]]):
        self.signals, self.init_fn = tuple(signals), init_fn

    def __call__(self, worker_id: int) -> None:
        for signum in self.signals:
            signal.signal(signum, signal.SIG_IGN)
        if self.init_fn is not None:
            self.init_fn(worker_id)


def data_loaders_of(runner) -> List[DataLoader]:
    """Every DataLoader that can start workers during training: the train loader, the
    validation loop's (once built) and those of hooks that evaluate (``hook.loaders``, e.g.
    OnlineKNNHook's, built in their ``before_train``, which runs before this hook's)."""
    loaders = [runner.train_dataloader]
    val_loop = getattr(runner, '_val_loop', None)
    if isinstance(getattr(val_loop, 'dataloader', None), DataLoader):
        loaders.append(val_loop.dataloader)
    for hook in runner.hooks:
        loaders += [loader for loader in getattr(hook, 'loaders', None) or ()
                    if isinstance(loader, DataLoader)]
    return loaders


def iteration_meta(runner) -> dict:
    """``meta`` of a checkpoint taken after iteration ``runner.iter`` (0-based) inside epoch
    ``runner.epoch``: what a resume needs to know where it stands (the epoch is unfinished,
    as in mmengine's iteration-based checkpoints)."""
    return dict(epoch=runner.epoch, iter=runner.iter + 1)


def checkpoint_options(runner) -> Tuple[str, dict]:
    """The folder and save options of the runner's checkpoint hook (the work dir and
    mmengine's defaults without one, or when it writes to a remote backend)."""
    hook = next((h for h in runner.hooks if isinstance(h, CheckpointHook)), None)
    if hook is None or not isinstance(getattr(hook, 'file_backend', None), LocalBackend):
        return runner.work_dir, {}
    return hook.out_dir, dict(save_optimizer=hook.save_optimizer,
                              save_param_scheduler=hook.save_param_scheduler)


@HOOKS.register_module()
class PreemptionHook(Hook):
    """Checkpoints of the current iteration, on a signal and every ``interval_minutes``.

    - A signal in ``signals`` (Slurm's warning, Kubernetes' and torchrun's SIGTERM) on any
      rank only sets a flag; a second one during the save changes nothing. Every
      ``check_interval`` iterations the ranks all-reduce (max) the flag, so all of them see
      it after the same iteration. Then they save ``iter_<k>.pth`` (atomically, with
      ``last_checkpoint`` pointing to it) and stop with :class:`Preempted`: tools/train.py
      logs how to resume and exits with code 75. ``--resume`` continues from there.
    - The same all-reduce carries "``interval_minutes`` of wall time have passed since the
      last save on some rank": all ranks then save, and training goes on. A kill without
      warning loses at most that much time (plus one check interval).
    - The checkpoints of this hook rotate among themselves (``max_keep_ckpts`` newest), apart
      from the epoch checkpoints; they go to the checkpoint hook's folder.
    - DataLoader workers ignore ``signals`` (see :class:`IgnoreSignalsInWorker`).

    Handlers are installed in ``before_train`` and the previous ones restored after training
    (or before the stop). Without a process group there is no all-reduce.

    Args:
        signals: names of the signals that stop the run.
        check_interval: iterations between two agreements (and time checks).
        interval_minutes: wall-time interval of the periodic checkpoints; None: none.
        max_keep_ckpts: how many of this hook's checkpoints to keep; -1: all.
        filename_tmpl: file name of a checkpoint, formatted with the iteration (1-based).
    """

    priority = 'LOWEST'  # after every other after_train_iter: the iteration is complete

    def __init__(self, signals: Sequence[str] = ('SIGTERM', 'SIGUSR1'),
                 check_interval: int = 1, interval_minutes: Optional[float] = None,
                 max_keep_ckpts: int = 2, filename_tmpl: str = 'iter_{}.pth') -> None:
        if not (isinstance(check_interval, int) and check_interval >= 1):
            raise ValueError(f'PreemptionHook check_interval must be an integer >= 1, got '
                             f'{check_interval!r}')
        if interval_minutes is not None and not interval_minutes > 0:
            raise ValueError(f'PreemptionHook interval_minutes must be > 0 or None, got '
                             f'{interval_minutes!r}')
        if max_keep_ckpts == 0 or max_keep_ckpts < -1:
            raise ValueError(f'PreemptionHook max_keep_ckpts must be >= 1 or -1 (keep all), '
                             f'got {max_keep_ckpts}')
        self.signals = parse_signals(signals)
        self.check_interval = check_interval
        self.interval_seconds = None if interval_minutes is None else 60 * interval_minutes
        self.max_keep_ckpts = max_keep_ckpts
        self.filename_tmpl = filename_tmpl
        self._received: Optional[int] = None  # the first signal
        self._num_received = 0
        self._previous_handlers: dict = {}

    # ---------------------------------------------------------------- signal handling
    def _on_signal(self, signum: int, frame) -> None:
        # nothing else here: the main thread may be anywhere, e.g. inside torch.save
        if self._received is None:
            self._received = signum
        self._num_received += 1

    def _install_handlers(self, runner) -> None:
        if threading.current_thread() is not threading.main_thread():
            runner.logger.warning('PreemptionHook: training runs outside the main thread, '
                                  'where signal handlers cannot be installed: a signal stops '
                                  'the run without a checkpoint')
            return
        self._received, self._num_received = None, 0
        for signum in self.signals:
            self._previous_handlers[signum] = signal.signal(signum, self._on_signal)

    def _restore_handlers(self) -> None:
        for signum, handler in self._previous_handlers.items():
            # None: a handler installed from C, which Python cannot put back
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        self._previous_handlers = {}

    # ---------------------------------------------------------------------- hook calls
    def before_train(self, runner) -> None:
        self._install_handlers(runner)
        for loader in data_loaders_of(runner):
            if loader.num_workers > 0 and not isinstance(loader.worker_init_fn,
                                                         IgnoreSignalsInWorker):
                loader.worker_init_fn = IgnoreSignalsInWorker(self.signals,
                                                              loader.worker_init_fn)
        if type(runner.train_loop) is EpochBasedTrainLoop:
            runner.logger.warning(
                'PreemptionHook with mmengine\'s EpochBasedTrainLoop: a checkpoint saved in '
                'the middle of an epoch resumes at the start of that epoch (batches repeat); '
                "train_cfg.type='ResumableEpochBasedTrainLoop' resumes at the next batch")
        self._out_dir, self._save_options = checkpoint_options(runner)
        self._last_save = time.monotonic()

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if (runner.iter + 1) % self.check_interval:
            return
        signum, time_is_up = self.agree()
        if not (signum or time_is_up):
            return
        path = self._save(runner)
        if signum:
            self._stop(runner, signum, batch_idx, path)

    def after_train(self, runner) -> None:
        self._restore_handlers()

    # ----------------------------------------------------------------------- the work
    def agree(self) -> Tuple[int, bool]:
        """(the signal a rank received, 0 if none; a rank's timer ran out), the same on
        every rank: the max over ranks of both."""
        time_is_up = (self.interval_seconds is not None
                      and time.monotonic() - self._last_save >= self.interval_seconds)
        if get_world_size() == 1:
            return self._received or 0, time_is_up
        flags = torch.tensor([self._received or 0, time_is_up], dtype=torch.int32)
        all_reduce(flags, op='max')
        return int(flags[0]), bool(flags[1])

    def _save(self, runner) -> str:
        """Save after the current iteration; rotate this hook's older checkpoints."""
        step = runner.iter + 1
        kept = [i for i in runner.message_hub.get_info(KEPT_IDS_KEY, []) if i != step]
        kept.append(step)
        expired = kept[:-self.max_keep_ckpts] if self.max_keep_ckpts > 0 else []
        kept = kept[len(expired):]
        previous = runner.message_hub.get_info(KEPT_IDS_KEY)
        runner.message_hub.update_info(KEPT_IDS_KEY, kept)  # saved inside the checkpoint
        try:
            path = save_checkpoint_atomically(
                runner, self._out_dir, self.filename_tmpl.format(step), iteration_meta(runner),
                by_epoch=False, **self._save_options)
        except BaseException:
            if previous is None:
                runner.message_hub.pop_info(KEPT_IDS_KEY)
            else:
                runner.message_hub.update_info(KEPT_IDS_KEY, previous)
            raise
        if is_main_process():
            for old in expired:
                remove_if_present(osp.join(self._out_dir, self.filename_tmpl.format(old)))
        self._last_save = time.monotonic()
        runner.logger.info(f'Saved {path} (iteration {step})')
        return path

    def _stop(self, runner, signum: int, batch_idx: int, path: str) -> None:
        if self._num_received > 1:
            runner.logger.info(f'{self._num_received - 1} more signal(s) arrived before the '
                               'stop (e.g. during the save) and were ignored')
        self._restore_handlers()
        raise Preempted(
            f'{signal.Signals(signum).name}: stopped after iteration {runner.iter + 1} '
            f'(epoch {runner.epoch + 1}, batch {batch_idx + 1} of '
            f'{len(runner.train_dataloader)}), saved to {path}; '
            f'exit code {PREEMPTED_EXIT_CODE}. To continue, run the same command with '
            f'--resume: it resumes from {path}.')
