"""Save reconstruction pictures (masked input | reconstruction | original) while training."""
import os.path as osp
from typing import Optional

import mmcv
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mim_agnostic.registry import HOOKS
from mim_agnostic.visualization import render_reconstructions


@HOOKS.register_module()
class ReconstructionVisualizationHook(Hook):
    """Every ``interval`` iterations (and at the last one) reconstruct the first
    ``num_images`` images of the current batch and write a PNG grid to
    ``{work_dir}/{out_dir}/iter_{N}.png`` and to the visualizer backends (TensorBoard when
    enabled), under the name ``reconstruction``.

    The model runs in eval mode without gradients (BatchNorm statistics are not touched).

    Args:
        interval: iterations between pictures.
        num_images: rows of the grid.
        out_dir: folder under the work dir.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 1000, num_images: int = 4,
                 out_dir: str = 'reconstructions') -> None:
        if interval <= 0 or num_images <= 0:
            raise ValueError('ReconstructionVisualizationHook: interval and num_images must be '
                             f'positive, got interval={interval}, num_images={num_images}')
        self.interval = interval
        self.num_images = num_images
        self.out_dir = out_dir

    def after_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if data_batch is None or not is_main_process():
            return
        if not (self.every_n_train_iters(runner, self.interval) or
                self.is_last_train_iter(runner)):
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        batch = {key: value[:self.num_images] if isinstance(value, (list, tuple, torch.Tensor))
                 else value for key, value in data_batch.items()}
        grid = render_reconstructions(model, batch)
        step = runner.iter + 1
        path = osp.join(runner.work_dir, self.out_dir, f'iter_{step}.png')
        mmcv.imwrite(mmcv.rgb2bgr(grid), path)
        runner.visualizer.add_image('reconstruction', grid, step=step)
        runner.logger.info(f'reconstruction picture saved to {path}')
