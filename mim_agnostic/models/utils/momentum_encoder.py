"""EMA copy of an online encoder, updated with one fused kernel and no host-device sync."""
import math
from typing import Optional

import torch
from mmengine.logging import MessageHub
from mmpretrain.models.utils import CosineEMA
from torch import nn


class MomentumEncoder(CosineEMA):
    """mmpretrain's :class:`CosineEMA` (``theta_k <- (1 - m_t) theta_k + m_t theta_q`` with
    ``m_t`` going from ``momentum`` to ``end_momentum`` on a cosine over the run's
    ``max_iters``; the first update copies the online weights), with the same arithmetic
    done by ``torch._foreach_lerp_`` over all parameters at once, and the step counter read
    from the device once per build/load instead of once per update (the base class compares
    its ``steps`` tensor on the host every step). ``steps`` stays a buffer, so a resumed run
    continues the schedule."""

    def __init__(self, model: nn.Module, momentum: float = 0.004, end_momentum: float = 0.0,
                 interval: int = 1, device: Optional[torch.device] = None) -> None:
        super().__init__(model, momentum=momentum, end_momentum=end_momentum,
                         interval=interval, device=device, update_buffers=False)
        self._host_steps: Optional[int] = None

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        super()._load_from_state_dict(*args, **kwargs)
        self._host_steps = None  # re-read the restored counter at the next update

    def momentum_at(self, step: int) -> float:
        """m_t of update ``step`` (the weight of the online parameters)."""
        max_iters = MessageHub.get_current_instance().get_info('max_iters')
        if not max_iters:
            raise RuntimeError('the momentum schedule needs the run length: MessageHub info '
                               '"max_iters" (the Runner sets it)')
        cosine = (math.cos(math.pi * step / float(max_iters)) + 1) / 2
        return self.end_momentum - (self.end_momentum - self.momentum) * cosine

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        if self._host_steps is None:
            self._host_steps = int(self.steps)
        step = self._host_steps
        sources = dict(model.named_parameters())
        averaged = [p for p in self.avg_parameters.values() if p.dtype.is_floating_point]
        online = [sources[k].detach().to(p.device) for k, p in self.avg_parameters.items()
                  if p.dtype.is_floating_point]
        if step == 0:
            torch._foreach_copy_(averaged, online)
        elif step % self.interval == 0:
            torch._foreach_lerp_(averaged, online, self.momentum_at(step))
        buffers = list(self.module.buffers())
        if buffers:  # keep BN statistics in sync with the online encoder, as the base class
            torch._foreach_copy_(buffers, [b.to(a.device) for a, b in
                                           zip(buffers, model.buffers())])
        self.steps += 1
        self._host_steps += 1
