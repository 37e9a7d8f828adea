"""Segmentation label maps checked against the number of classes, naming the file."""
import numpy as np
from mmcv.transforms import BaseTransform

from mim_agnostic.registry import TRANSFORMS


@TRANSFORMS.register_module()
class CheckSegLabels(BaseTransform):
    """Raise if ``gt_seg_map`` holds a value outside ``0..num_classes-1`` other than
    ``ignore_index`` (unchecked, such a value fails much later as an out-of-bounds target
    inside the loss, without the file's name). Put it after mmseg's ``LoadAnnotations``.

    Args:
        num_classes: classes of the dataset (150 for ADE20K after reduce_zero_label).
        ignore_index: the value the loss ignores (255).
    """

    def __init__(self, num_classes: int, ignore_index: int = 255) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        values = np.unique(results['gt_seg_map'])
        bad = values[((values < 0) | (values >= self.num_classes))
                     & (values != self.ignore_index)]
        if bad.size:
            raise ValueError(
                f'{results.get("seg_map_path", "the label map")}: label values '
                f'{bad[:10].tolist()} are outside 0..{self.num_classes - 1} (ignore index '
                f'{self.ignore_index}) after LoadAnnotations (reduce_zero_label='
                f'{results.get("reduce_zero_label")})')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')
