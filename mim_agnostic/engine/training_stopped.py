"""Ways a training run stops on purpose, each with its process exit code.

``tools/train.py`` logs the message of a :class:`TrainingStopped` (no traceback) and exits
with its ``exit_code``, so launchers and job scripts can tell the cases apart:

- 75 (``EX_TEMPFAIL`` of sysexits.h, "try again later"): preempted by a signal, a checkpoint
  of the current iteration was written; run the same command with ``--resume``.
  ``tools/slurm_train.sh`` requeues the job on this code. It differs from 143 (128 +
  SIGTERM), which a shell reports for a process the signal killed before it could save.
- 74 (``EX_IOERR``): a checkpoint could not be written (full disk, I/O error, quota); the
  previous checkpoint and ``last_checkpoint`` are untouched.
"""
import logging
from typing import Optional

PREEMPTED_EXIT_CODE = 75
SAVE_FAILED_EXIT_CODE = 74


class TrainingStopped(Exception):
    """Training stopped with a message for the user instead of a traceback."""

    exit_code = 1
    log_level = logging.ERROR


class Preempted(TrainingStopped):
    """A signal asked the run to stop; a checkpoint of the current iteration was saved."""

    exit_code = PREEMPTED_EXIT_CODE
    log_level = logging.WARNING


def human_size(num_bytes: int) -> str:
    """``1536`` -> ``'1.5 KiB'``."""
    size, unit = float(num_bytes), 'B'
    for larger in ('KiB', 'MiB', 'GiB', 'TiB'):
        if size < 1024:
            break
        size, unit = size / 1024, larger
    return f'{size:.0f} B' if unit == 'B' else f'{size:.1f} {unit}'


class CheckpointSaveError(TrainingStopped):
    """A checkpoint (or the ``last_checkpoint`` pointer) could not be written.

    Args:
        path: the file that was being written.
        reason: why (``strerror`` of the OSError, or a free-space shortfall).
        written: bytes written before the failure.
        free: free bytes on the file system of ``path`` after the failure.
        needed: bytes the checkpoint needs, estimated by the previous checkpoint's size.
        previous: the checkpoint ``last_checkpoint`` still points to, if any.
    """

    exit_code = SAVE_FAILED_EXIT_CODE

    def __init__(self, path: str, reason: str, written: Optional[int] = None,
                 free: Optional[int] = None, needed: Optional[int] = None,
                 previous: Optional[str] = None) -> None:
        super().__init__(path, reason)
        self.path, self.reason, self.written, self.free = path, reason, written, free
        self.needed, self.previous = needed, previous

    def __str__(self) -> str:
        if self.written is None:  # another rank's failure, described in rank 0's log
            return f'could not save {self.path}: {self.reason}'
        sizes = [f'{human_size(self.written)} written']
        if self.needed is not None:
            sizes.append(f'about {human_size(self.needed)} needed (the size of the previous '
                         'checkpoint)')
        if self.free is not None:
            sizes.append(f'{human_size(self.free)} free on that disk')
        if self.previous:
            then = (f'{self.previous} and last_checkpoint are unchanged: make room, then '
                    f'run the same command with --resume to continue from {self.previous}.')
        else:
            then = 'There is no earlier checkpoint: a new run starts from the beginning.'
        return (f'could not save {self.path}: {self.reason} ({"; ".join(sizes)}). The partial '
                f'file was removed; {then}')
