"""kNN accuracy of the backbone being pretrained, every few epochs."""
import contextlib
import random
import time
from typing import Iterator, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather, get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import DefaultScope
from mmengine.runner import EpochBasedTrainLoop

from mim_agnostic.evaluation.data import SplitFiles, build_eval_dataloader, scan_split
from mim_agnostic.evaluation.features import pooled_features, preprocessor_cfg
from mim_agnostic.evaluation.knn import knn_classify
from mim_agnostic.models.necks import FeaturePool
from mim_agnostic.registry import HOOKS, MODELS


@contextlib.contextmanager
def preserved_rng() -> Iterator[None]:
    """Python, numpy and torch (CPU and CUDA) RNG states are restored on exit."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=devices):
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)


def evenly_spaced(files: SplitFiles, limit: Optional[int]) -> SplitFiles:
    """At most ``limit`` samples, evenly spaced over the (class-sorted) list."""
    if limit is None or len(files.samples) <= limit:
        return files
    count = len(files.samples)
    return SplitFiles([files.samples[i * count // limit] for i in range(limit)], files.classes)


def interleave(shards: List[torch.Tensor], total: int) -> torch.Tensor:
    """Undo ``samples[r::W]`` sharding: W (rows, C) shards, zero-padded to equal rows, ->
    the first ``total`` samples in their original order."""
    return torch.stack(shards, dim=1).reshape(-1, shards[0].shape[1])[:total]


@HOOKS.register_module()
class OnlineKNNHook(Hook):
    """Every ``interval`` epochs and after the last one: weighted kNN top-1/top-5 (percent)
    of the model's backbone on held-out labelled images, logged as ``knn/top1`` and
    ``knn/top5`` to the visualizer backends (scalars.json, TensorBoard; step = iteration).

    Features: clean images (resize to size/0.875 + centre crop, size = the training crop),
    the model config's normalisation, backbone in eval mode, last output average-pooled.
    Distributed: each rank extracts every world_size-th image, the features are all-gathered
    and every rank computes the (identical) result; rank 0 writes it. Training is untouched:
    each module's train/eval mode and the python/numpy/torch RNG states are restored and the
    loaders never draw from the global RNG, so a run gives the same weights with and without
    the hook.

    Args:
        data_root: ImageNet-layout root (see :func:`scan_split`) with both splits.
        interval: epochs between evaluations.
        train_split, val_split: the kNN memory bank and the queries (val's classes must be
            train's).
        k, temperature: kNN neighbours and vote temperature.
        image_size: eval crop; default the config's training crop.
        max_train_images, max_val_images: evenly spaced subsets to bound the cost.
    """

    priority = 'LOW'  # before the checkpoint hook (VERY_LOW) of the same epoch

    def __init__(self, data_root: str, interval: int = 10, train_split: str = 'train',
                 val_split: str = 'val', k: int = 20, temperature: float = 0.07,
                 image_size: Optional[int] = None, batch_size: int = 64, num_workers: int = 2,
                 max_train_images: Optional[int] = None,
                 max_val_images: Optional[int] = None) -> None:
        if interval < 1:
            raise ValueError(f'OnlineKNNHook: interval={interval} must be >= 1 (epochs)')
        if k < 1 or temperature <= 0:
            raise ValueError(f'OnlineKNNHook: k={k} must be >= 1, temperature={temperature} > 0')
        self.data_root = data_root
        self.interval = interval
        self.splits = (train_split, val_split)
        self.k = k
        self.temperature = temperature
        self.image_size = image_size
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.limits = (max_train_images, max_val_images)
        self.seconds: List[float] = []  # wall time of each evaluation

    def before_train(self, runner) -> None:
        """Check the data (clear errors before the first iteration) and build the loaders of
        this rank's shards."""
        if not isinstance(runner.train_loop, EpochBasedTrainLoop):
            raise ValueError('OnlineKNNHook needs an epoch-based train loop (train_cfg.by_epoch)')
        train_split, val_split = self.splits
        all_train = scan_split(self.data_root, train_split, None)
        train = evenly_spaced(all_train, self.limits[0])
        val = evenly_spaced(scan_split(self.data_root, val_split, train_split, all_train),
                            self.limits[1])
        rank, world_size = get_dist_info()
        self.sizes = (len(train.samples), len(val.samples))
        self.num_classes = len(train.classes)
        self.labels = [torch.tensor([label for _, label in files.samples])
                       for files in (train, val)]
        self.loaders = [
            build_eval_dataloader(runner.cfg, self.data_root, split, self.batch_size,
                                  self.num_workers, self.image_size,
                                  files=SplitFiles(files.samples[rank::world_size], files.classes))
            for split, files in ((train_split, train), (val_split, val))]
        with DefaultScope.overwrite_default_scope('mim_agnostic'):
            self.data_preprocessor = MODELS.build(preprocessor_cfg(runner.cfg))
        self.neck = FeaturePool('avg')

    def after_train_epoch(self, runner) -> None:
        if self.every_n_epochs(runner, self.interval) or self.is_last_train_epoch(runner):
            self.evaluate(runner)

    def _gathered(self, features: torch.Tensor, total: int) -> torch.Tensor:
        """All ranks' interleaved shards (rank r holds samples r, r + W, ...) in order."""
        _, world_size = get_dist_info()
        if world_size == 1:
            return features
        rows = -(-total // world_size)
        padded = features.new_zeros(rows, features.shape[1])
        padded[:len(features)] = features
        return interleave(all_gather(padded), total)

    def evaluate(self, runner) -> dict:
        """Run the protocol now; returns ``{'top1', 'top5', 'k', 'temperature'}``."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        backbone = model.backbone
        modes = [(module, module.training) for module in model.modules()]
        start = time.perf_counter()
        try:
            with preserved_rng():
                model.eval()
                features = [self._gathered(pooled_features(backbone, self.data_preprocessor,
                                                           self.neck, loader, False)[0], total)
                            for loader, total in zip(self.loaders, self.sizes)]
                result = knn_classify(features[0], self.labels[0], features[1], self.labels[1],
                                      self.num_classes, self.k, self.temperature)
        finally:
            for module, training in modes:
                module.training = training
        self.seconds.append(time.perf_counter() - start)
        scalars = {'knn/top1': result['top1'], 'knn/top5': result['top5']}
        runner.visualizer.add_scalars(scalars, step=runner.iter)
        for key, value in scalars.items():
            runner.message_hub.update_info(key, value)
        runner.logger.info(
            f'Epoch {runner.epoch + 1} kNN (k={self.k}, T={self.temperature}, '
            f'{self.sizes[0]} train / {self.sizes[1]} val images): top1 {result["top1"]:.2f} '
            f'top5 {result["top5"]:.2f} ({self.seconds[-1]:.1f} s)')
        return result
