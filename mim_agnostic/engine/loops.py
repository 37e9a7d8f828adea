"""The epoch-based train loop that resumes in the middle of an epoch, exactly."""
from typing import Dict, Union

from mmengine.dist import get_rank
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import BatchSampler, DataLoader

from mim_agnostic.datasets import ResumableSampler, SampleSeededDataset
from mim_agnostic.registry import LOOPS
from mim_agnostic.utils.seeding import seed_for_iteration

# message-hub key, saved in every checkpoint: a resumed run checks it has the same epochs
ITERS_PER_EPOCH = 'train_iters_per_epoch'


def with_seeded_dataset(dataloader: Union[DataLoader, Dict]) -> Dict:
    """The dataloader config with its dataset wrapped in :class:`SampleSeededDataset`."""
    if not isinstance(dataloader, dict):
        raise TypeError('ResumableEpochBasedTrainLoop with seed_per_sample=True wraps the '
                        'train dataset: give train_dataloader as a config dict, not a built '
                        f'{type(dataloader).__name__} (or set train_cfg.seed_per_sample=False)')
    dataset = dataloader['dataset']
    if isinstance(dataset, SampleSeededDataset) or (
            isinstance(dataset, dict) and dataset.get('type') in ('SampleSeededDataset',
                                                                  SampleSeededDataset)):
        return dataloader
    return dict(dataloader, dataset=dict(type=SampleSeededDataset, dataset=dataset))


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """mmengine's :class:`EpochBasedTrainLoop` that, resumed from a checkpoint saved in
    the middle of an epoch (an iteration-interval, time-based or signal checkpoint), trains
    the rest of that epoch from the next batch instead of restarting it, and makes the
    randomness of a run a function of its position, so that the resumed run ends with the
    same weights, optimizer and scheduler states as an uninterrupted one.

    The sampler must be a :class:`ResumableSampler` (``DefaultSampler`` semantics); with
    torch's batch sampler (a ``batch_size`` in ``train_dataloader``) it leaves out the
    first ``batches done x batch_size`` samples of this rank's order of the epoch. The
    checkpoint's ``meta.epoch`` and ``meta.iter`` say how many batches were done.

    Args:
        seed_per_sample: seed ``random``, numpy and torch from ``(seed, epoch, sample index)``
            before each sample's pipeline (:class:`SampleSeededDataset` wraps the train
            dataset) and from ``(seed, iteration)`` before each training iteration. Crops,
            flips and masks then no longer depend on the data worker, the number of
            workers or whether they persist, and the model's randomness (drop path,
            MixMIM's masks) not on what ran before. ``seed`` is the run's
            (``randomness.seed``, or the checkpoint's on resume). False keeps mmengine's
            per-worker streams: a mid-epoch resume still continues at the next batch, but
            its random draws differ from those of an uninterrupted run.
        **kwargs: :class:`EpochBasedTrainLoop` arguments (max_epochs, val_interval, ...).
    """

    def __init__(self, runner, dataloader: Union[DataLoader, Dict], max_epochs: int,
                 seed_per_sample: bool = True, **kwargs) -> None:
        self.seed_per_sample = seed_per_sample
        if seed_per_sample:
            dataloader = with_seeded_dataset(dataloader)
        sampler_cfg = dataloader.get('sampler') if isinstance(dataloader, dict) else None
        self._sampler_seed_in_config = isinstance(sampler_cfg, dict) and \
            sampler_cfg.get('seed') is not None
        super().__init__(runner, dataloader, max_epochs, **kwargs)
        self._start_batch = 0
        if seed_per_sample:
            self._check_resumable_sampler('seed_per_sample=True')
            self.sampler.sample_keys = True

    @property
    def sampler(self):
        """The sampler of the train dataloader (inside its batch sampler)."""
        return getattr(self.dataloader.batch_sampler, 'sampler', self.dataloader.sampler)

    def _check_resumable_sampler(self, purpose: str) -> None:
        if not isinstance(self.sampler, ResumableSampler):
            raise TypeError(f'ResumableEpochBasedTrainLoop: {purpose} needs '
                            "train_dataloader.sampler.type='ResumableSampler', got "
                            f'{type(self.sampler).__name__}')

    def _batches_done_in_epoch(self) -> int:
        """How many batches of the current epoch the resumed checkpoint had trained."""
        hub = self.runner.message_hub
        per_epoch = len(self.dataloader)
        saved = hub.get_info(ITERS_PER_EPOCH)
        if saved is None and hub.get_info('max_epochs'):  # checkpoints of older runs
            saved = hub.get_info('max_iters') // hub.get_info('max_epochs')
        saved = saved or per_epoch
        done = self._iter - self._epoch * saved
        if done == 0:
            return 0
        if saved != per_epoch:
            raise ValueError(
                f'cannot resume in the middle of epoch {self._epoch + 1}: the checkpoint was '
                f'saved after {done} of its {saved} iterations, but this run has {per_epoch} '
                'iterations per epoch (the batch size, number of processes or dataset '
                'changed). Resume with the same ones, or from an epoch checkpoint.')
        if not 0 < done <= per_epoch:
            raise ValueError(f'the checkpoint (epoch {self._epoch}, iteration {self._iter}) '
                             f'does not fit {per_epoch} iterations per epoch')
        return done

    def _check_can_start_mid_epoch(self) -> None:
        self._check_resumable_sampler('resuming in the middle of an epoch')
        if type(self.dataloader.batch_sampler) is not BatchSampler:
            raise TypeError('ResumableEpochBasedTrainLoop: resuming in the middle of an epoch '
                            'skips batch_size samples per batch done, which needs torch\'s '
                            'BatchSampler (train_dataloader.batch_size), got '
                            f'{type(self.dataloader.batch_sampler).__name__}')

    def _run_seed(self) -> int:
        """The seed of the run, the same on every rank: ``randomness.seed``, or the
        checkpoint's after a resume (``Runner.resume`` replaces the runner's seed after the
        sampler was built), without the rank that ``diff_rank_seed`` adds (mmengine would
        give the sampler a fresh random seed each run then)."""
        if self.runner._randomness_cfg.get('diff_rank_seed', False):
            return self.runner.seed - get_rank()
        return self.runner.seed

    def run(self):
        """Train; after a resume, first finish the checkpoint's epoch from its next batch."""
        if hasattr(self.sampler, 'seed') and not self._sampler_seed_in_config:
            self.sampler.seed = self._run_seed()
        self._start_batch = self._batches_done_in_epoch()
        if self._start_batch:
            self._check_can_start_mid_epoch()
            print_log(f'resuming epoch {self._epoch + 1} at iteration {self._start_batch + 1} '
                      f'of {len(self.dataloader)}: the checkpoint had trained on its first '
                      f'{self._start_batch} batches', logger='current')
        self.runner.message_hub.update_info(ITERS_PER_EPOCH, len(self.dataloader))
        try:
            return super().run()
        except BaseException:
            self._stop_persistent_workers()
            raise

    def _stop_persistent_workers(self) -> None:
        """Stop the persistent data workers of a run that stops with an exception (a
        preemption, a failed save). They outlive the loop in the DataLoader; at exit,
        multiprocessing would SIGTERM and join them, and workers that ignore SIGTERM
        (PreemptionHook's) would keep the process from exiting."""
        iterator = getattr(self.dataloader, '_iterator', None)
        if iterator is not None and hasattr(iterator, '_shutdown_workers'):
            self.dataloader._iterator = None
            iterator._shutdown_workers()

    def run_epoch(self) -> None:
        """Iterate one epoch, or the rest of it after a mid-epoch resume."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        start, self._start_batch = self._start_batch, 0
        if hasattr(self.sampler, 'set_epoch'):  # as DistSamplerSeedHook, also without it
            self.sampler.set_epoch(self._epoch)
        if start:
            self.sampler.skip_next_epoch_start(
                min(start * self.dataloader.batch_size, len(self.sampler)))
        # the sampler is read in this process when iter() starts the epoch, also with
        # persistent workers: the skip applies to this epoch only
        for idx, data_batch in enumerate(self.dataloader, start):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def run_iter(self, idx, data_batch) -> None:
        if self.seed_per_sample:
            seed_for_iteration(self.runner.seed, self._iter)
        super().run_iter(idx, data_batch)
