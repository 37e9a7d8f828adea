"""Checkpoints that a kill or a full disk at any moment cannot corrupt or lose."""
import glob
import os
import os.path as osp
import shutil
from typing import Callable, Optional

import torch
from mmengine.dist import broadcast, get_world_size, is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from mim_agnostic.engine.training_stopped import CheckpointSaveError
from mim_agnostic.registry import HOOKS


def remove_if_present(path: str) -> None:
    if osp.lexists(path):
        os.remove(path)


def free_bytes(path: str) -> int:
    """Free bytes on the file system that holds ``path``."""
    return shutil.disk_usage(osp.dirname(osp.abspath(path))).free


def describe_os_error(error: OSError) -> str:
    return f'[Errno {error.errno}] {error.strerror}' if error.errno else str(error)


def replace_atomically(write: Callable[[str], None], path: str) -> None:
    """``write(tmp_path)``, flush it to disk, then rename it to ``path`` in one step: a
    reader sees the old file or the complete new one, never a partial one.

    Any failure removes the partial ``<path>.tmp``; an OSError (full disk, I/O error,
    quota) is raised as :class:`CheckpointSaveError` with the bytes written and free.
    """
    tmp = f'{path}.tmp'
    try:
        write(tmp)
        with open(tmp, 'rb+') as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        directory = os.open(osp.dirname(osp.abspath(path)), os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a power cut
        finally:
            os.close(directory)
    except OSError as error:
        written = osp.getsize(tmp) if osp.isfile(tmp) else 0
        remove_if_present(tmp)
        raise CheckpointSaveError(path, describe_os_error(error), written=written,
                                  free=free_bytes(path)) from error
    except BaseException:
        remove_if_present(tmp)
        raise


def read_last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``work_dir/last_checkpoint`` names, None without one."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as f:
        return f.read().strip() or None


def save_checkpoint_atomically(runner, out_dir: str, filename: str, meta: dict,
                               **save_options) -> str:
    """Save the runner's state to ``out_dir/filename``, then point
    ``work_dir/last_checkpoint`` to it, each through :func:`replace_atomically`.

    Call it on every rank: rank 0 writes (as :meth:`Runner.save_checkpoint` expects) and
    tells the others whether it worked. A failed save stops every rank with
    :class:`CheckpointSaveError`: before writing anything when the disk has less free space
    than the previous checkpoint's size, else after removing the partial file. The previous
    checkpoint and pointer stay as they were. ``save_options`` go to
    :meth:`Runner.save_checkpoint`.

    Returns:
        The path of the saved checkpoint.
    """
    path = osp.join(out_dir, filename)
    failure = None
    if is_main_process():
        previous = read_last_checkpoint(runner.work_dir)
        needed = osp.getsize(previous) if previous and osp.isfile(previous) else None
        try:
            free = free_bytes(path)
            if needed is not None and free < needed:
                raise CheckpointSaveError(path, 'not enough free space', written=0, free=free)
            replace_atomically(
                lambda tmp: runner.save_checkpoint(out_dir, osp.basename(tmp),
                                                   meta=dict(meta), **save_options), path)

            def write_pointer(tmp: str) -> None:
                with open(tmp, 'w') as f:
                    f.write(path)

            replace_atomically(write_pointer, osp.join(runner.work_dir, 'last_checkpoint'))
        except CheckpointSaveError as error:
            error.needed, error.previous = needed, previous
            failure = error
    if get_world_size() > 1:
        failed = torch.tensor([int(failure is not None)])
        broadcast(failed, src=0)
        if failed.item() and failure is None:
            failure = CheckpointSaveError(path, 'rank 0 could not write it; its log says why '
                                                'and how to continue')
    if failure is not None:
        raise failure
    return path


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's :class:`CheckpointHook` (same arguments), made safe against kills:

    - the checkpoint is written to ``<name>.tmp`` and renamed when complete, so no
      truncated ``epoch_N.pth`` ever exists;
    - ``last_checkpoint`` is replaced the same way, after the checkpoint is complete;
    - checkpoints beyond ``max_keep_ckpts`` are deleted only after that (mmengine deletes
      first: with ``max_keep_ckpts=1`` a kill during the save left nothing to resume from);
    - a failed write (full disk, I/O error) removes the partial file and stops training
      with :class:`CheckpointSaveError` (one message, exit code 74 in tools/train.py).

    Leftover ``*.tmp`` files of a killed save are removed when training starts. Remote
    file backends keep mmengine's behaviour.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process() and isinstance(self.file_backend, LocalBackend):
            for stale in glob.glob(osp.join(self.out_dir, '*.tmp')):
                os.remove(stale)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        if not isinstance(self.file_backend, LocalBackend):
            return super()._save_checkpoint_with_step(runner, step, meta)
        rotating = self.max_keep_ckpts > 0  # mmengine's -1 (default): keep every checkpoint
        kept = list(self.keep_ckpt_ids) if rotating else []
        if rotating and (not kept or kept[-1] != step):
            kept.append(step)
        expired = kept[:-self.max_keep_ckpts] if rotating else []
        kept = kept[-self.max_keep_ckpts:] if rotating else []

        # the checkpoint records itself as kept (as mmengine's does), so that a resumed run
        # rotates it out in turn; restored if the save fails
        hub = runner.message_hub
        before = {key: hub.get_info(key) for key in ('keep_ckpt_ids', 'last_ckpt')}
        if rotating:
            hub.update_info('keep_ckpt_ids', kept)
        hub.update_info('last_ckpt', osp.join(self.out_dir, self.filename_tmpl.format(step)))
        try:
            self.last_ckpt = save_checkpoint_atomically(
                runner, self.out_dir, self.filename_tmpl.format(step), meta,
                file_client_args=self.file_client_args, save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler, by_epoch=self.by_epoch,
                backend_args=self.backend_args, **self.args)
        except BaseException:
            for key, value in before.items():
                if value is None:
                    hub.pop_info(key)
                else:
                    hub.update_info(key, value)
            raise
        # the bookkeeping changes only once the new checkpoint is safely on disk
        if rotating:
            self.keep_ckpt_ids.clear()
            self.keep_ckpt_ids.extend(kept)
        if is_main_process():
            for old in expired:
                remove_if_present(osp.join(self.out_dir, self.filename_tmpl.format(old)))
