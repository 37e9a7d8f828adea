"""A DefaultSampler that can start an epoch part-way and tags indices with their epoch."""
from typing import Iterator, NamedTuple, Union

from mmengine.dataset import DefaultSampler

from mim_agnostic.registry import DATA_SAMPLERS


class SampleKey(NamedTuple):
    """What :class:`ResumableSampler` yields with ``sample_keys=True``: the dataset
    ``index`` and the ``seed`` and ``epoch`` its randomness derives from
    (:class:`SampleSeededDataset`). The epoch travels with the index because a persistent
    data worker holds a copy of the dataset that never hears of ``set_epoch``."""
    seed: int
    epoch: int
    index: int


@DATA_SAMPLERS.register_module()
class ResumableSampler(DefaultSampler):
    """mmengine's :class:`DefaultSampler` (the same order for the same ``(seed, epoch)``, the
    same sharding over ranks) whose next epoch can start after its first samples.

    Args:
        sample_keys: yield :class:`SampleKey` ``(seed, epoch, index)`` instead of the index,
            for :class:`SampleSeededDataset` (``ResumableEpochBasedTrainLoop`` turns it on
            with ``seed_per_sample``).
        **kwargs: :class:`DefaultSampler` arguments (dataset, shuffle, seed, round_up).
    """

    def __init__(self, *args, sample_keys: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sample_keys = sample_keys
        self._start = 0

    def skip_next_epoch_start(self, num_samples: int) -> None:
        """The next ``iter()`` (only that one) leaves out the first ``num_samples`` of this
        rank's samples of the epoch, those a resumed run has already trained on."""
        if not 0 <= num_samples <= self.num_samples:
            raise ValueError(f'ResumableSampler: cannot skip {num_samples} samples of an '
                             f'epoch of {self.num_samples} on this rank')
        self._start = num_samples

    def __iter__(self) -> Iterator[Union[int, SampleKey]]:
        indices = list(super().__iter__())[self._start:]
        self._start = 0
        if self.sample_keys:
            return iter([SampleKey(self.seed, self.epoch, index) for index in indices])
        return iter(indices)
