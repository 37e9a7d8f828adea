"""Stop (or skip the step) on a non-finite loss or gradient, before the weights are touched."""
import logging
from typing import Dict, Optional

import torch
from mmengine.logging import MessageHub, print_log
from mmengine.optim import OptimWrapper

from mim_agnostic.registry import OPTIM_WRAPPERS

ACTIONS = ('stop', 'skip')


@OPTIM_WRAPPERS.register_module()
class NonFiniteGuardOptimWrapper(OptimWrapper):
    """:class:`OptimWrapper` that checks the loss before backward and the gradients before
    the step. ``on_non_finite='stop'`` raises with the iteration number, so the weights, the
    optimizer state and the last checkpoint stay as they were; ``'skip'`` drops the step,
    zeroes the gradients, counts the skips (logged as ``non_finite_skips``) and goes on.

    The checks cost one host-device sync per step (a scalar ``isfinite`` over the loss and
    the global gradient norm).
    """

    def __init__(self, *args, on_non_finite: str = 'stop', **kwargs) -> None:
        if on_non_finite not in ACTIONS:
            raise ValueError(f'optim_wrapper.on_non_finite={on_non_finite!r} must be one of '
                             f'{ACTIONS}')
        super().__init__(*args, **kwargs)
        self.on_non_finite = on_non_finite
        self.skipped = 0

    def _reject(self, what: str) -> None:
        iteration = MessageHub.get_current_instance().get_info('iter', -1) + 1
        if self.on_non_finite == 'stop':
            raise FloatingPointError(
                f'non-finite {what} at iteration {iteration}: training stopped before the '
                'update; the last checkpoint is untouched (resume with --resume, e.g. with '
                'a lower lr or optim_wrapper.on_non_finite="skip")')
        self.skipped += 1
        self.zero_grad()
        MessageHub.get_current_instance().update_scalar('train/non_finite_skips', self.skipped)
        print_log(f'non-finite {what} at iteration {iteration}: step skipped '
                  f'({self.skipped} so far)', 'current', logging.WARNING)

    def update_params(self, loss: torch.Tensor, step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        if not torch.isfinite(loss):
            self._reject(f'loss ({loss.item()})')
            return
        self.backward(self.scale_loss(loss))  # / accumulative_counts, as OptimWrapper does
        if not self.should_update():
            return
        grads = [p.grad for group in self.optimizer.param_groups for p in group['params']
                 if p.grad is not None]
        if grads and not torch.isfinite(torch.stack([g.norm() for g in grads]).sum()):
            self._reject('gradient')
            return
        self.step(**(step_kwargs or {}))
        self.zero_grad(**(zero_kwargs or {}))
