"""A dataset wrapper that makes each sample's randomness a function of its position."""
from numbers import Integral
from typing import Any, Union

from torch.utils.data import Dataset

from mim_agnostic.registry import DATASETS
from mim_agnostic.utils.seeding import seed_for_sample
from .resumable_sampler import SampleKey


@DATASETS.register_module()
class SampleSeededDataset(Dataset):
    """Seeds ``random``, numpy and torch from ``(seed, epoch, index)`` before the wrapped
    dataset loads and transforms a sample, so its crop, flip and mask depend on that
    triple only: not on which data worker runs it, how many workers there are, whether
    they persist across epochs, or what that worker loaded before.

    Indexed by the :class:`SampleKey` that :class:`ResumableSampler` yields with
    ``sample_keys=True``. An int index reads the sample without reseeding (inspection,
    visualisation). The wrapped dataset is untouched (any mmpretrain/mmengine dataset).

    Args:
        dataset: the dataset or its config.
    """

    def __init__(self, dataset: Union[dict, Dataset]) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset

    def full_init(self) -> None:
        """Fully initialise a lazily initialised wrapped dataset (as the Runner does)."""
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: Union[SampleKey, Integral]) -> Any:
        if isinstance(key, SampleKey):
            seed_for_sample(key.seed, key.epoch, key.index)
            return self.dataset[key.index]
        if isinstance(key, Integral):
            return self.dataset[key]
        raise TypeError(f'SampleSeededDataset: index with a SampleKey (from ResumableSampler '
                        f'with sample_keys=True) or an int, got {key!r}')
