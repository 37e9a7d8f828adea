"""Checkpoints that a kill at any moment cannot corrupt or lose."""
import glob
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from mim_agnostic.registry import HOOKS


def replace_atomically(write, path: str) -> None:
    """``write(tmp_path)``, flush it to disk, then rename it to ``path`` in one step: a
    reader sees the old file or the complete new one, never a partial one."""
    tmp = f'{path}.tmp'
    write(tmp)
    with open(tmp, 'rb+') as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    directory = os.open(osp.dirname(osp.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's :class:`CheckpointHook` (same arguments), made safe against kills:

    - the checkpoint is written to ``<name>.tmp`` and renamed when complete, so no
      truncated ``epoch_N.pth`` ever exists;
    - ``last_checkpoint`` is replaced the same way, after the checkpoint is complete;
    - checkpoints beyond ``max_keep_ckpts`` are deleted only after that (mmengine deletes
      first: with ``max_keep_ckpts=1`` a kill during the save left nothing to resume from).

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
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        kept = list(self.keep_ckpt_ids)
        if self.max_keep_ckpts > 0 and (not kept or kept[-1] != step):
            kept.append(step)
        expired = kept[:-self.max_keep_ckpts] if self.max_keep_ckpts > 0 else []

        if is_main_process():  # Runner.save_checkpoint is master-only

            def save(tmp_path: str) -> None:
                runner.save_checkpoint(
                    self.out_dir, osp.basename(tmp_path), self.file_client_args,
                    save_optimizer=self.save_optimizer,
                    save_param_scheduler=self.save_param_scheduler, meta=meta,
                    by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)

            def write_pointer(tmp_path: str) -> None:
                with open(tmp_path, 'w') as f:
                    f.write(self.last_ckpt)

            replace_atomically(save, self.last_ckpt)
            replace_atomically(write_pointer, osp.join(runner.work_dir, 'last_checkpoint'))
        # the bookkeeping changes only once the new checkpoint is safely on disk
        if self.max_keep_ckpts > 0:
            self.keep_ckpt_ids.clear()
            self.keep_ckpt_ids.extend(kept[-self.max_keep_ckpts:])
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        if not is_main_process():
            return
        for old in expired:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old))
            if osp.isfile(path):
                os.remove(path)
