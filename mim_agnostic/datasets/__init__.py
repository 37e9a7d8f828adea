from .image_folder import UnlabeledImageFolder
from .resumable_sampler import ResumableSampler, SampleKey
from .sample_seeded_dataset import SampleSeededDataset
from .transforms import BlockMaskGenerator

__all__ = ['BlockMaskGenerator', 'ResumableSampler', 'SampleKey', 'SampleSeededDataset',
           'UnlabeledImageFolder']
