"""A non-finite loss or gradient stops training (or skips the step) before any update."""
import os.path as osp

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset


class PoisonedModel(BaseModel):
    """Its loss (or gradient) turns non-finite on inputs equal to 99."""

    def __init__(self, poison_grad=False):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.poison_grad = poison_grad

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(inputs).mean()
        if bool((inputs == 99).any()):
            if self.poison_grad:  # the loss stays finite (0 added), its gradient is NaN
                out = out + (self.linear.bias * 0).abs().sqrt().sum()
            else:
                out = out * float('nan')
        return dict(loss=out.pow(2)) if mode == 'loss' else out


class Batches(Dataset):
    """8 samples, batch 2: the third batch (iteration 3) is poisoned."""

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return dict(inputs=torch.full((2, ), 99.0 if index in (4, 5) else float(index)))


def runner(work_dir, on_non_finite, poison_grad=False):
    return Runner(
        model=PoisonedModel(poison_grad), work_dir=str(work_dir),
        train_dataloader=dict(dataset=Batches(), batch_size=2,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(type='NonFiniteGuardOptimWrapper', on_non_finite=on_non_finite,
                           optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=4),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', by_epoch=False,
                                           interval=2)),
        default_scope='mim_agnostic', experiment_name=f'guard_{on_non_finite}_{poison_grad}')


@pytest.mark.parametrize('poison_grad', [False, True])
def test_stop_names_the_iteration_and_keeps_the_last_checkpoint(tmp_path, poison_grad):
    run = runner(tmp_path, 'stop', poison_grad)
    with pytest.raises(FloatingPointError, match='non-finite .* at iteration 3'):
        run.train()
    saved = torch.load(osp.join(tmp_path, 'iter_2.pth'))
    for key, value in run.model.state_dict().items():  # no update after iteration 2
        assert torch.equal(value, saved['state_dict'][key])
    assert not osp.exists(osp.join(tmp_path, 'iter_4.pth'))


def test_skip_drops_the_step_and_counts_it(tmp_path):
    run = runner(tmp_path, 'skip')
    run.train()
    assert run.optim_wrapper.skipped == 1 and run.iter == 4
    assert all(torch.isfinite(p).all() for p in run.model.parameters())


def test_bad_action_is_a_clear_error():
    from mim_agnostic.engine.optimizers import NonFiniteGuardOptimWrapper
    optimizer = torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1)
    with pytest.raises(ValueError, match='on_non_finite=.ignore.'):
        NonFiniteGuardOptimWrapper(optimizer, on_non_finite='ignore')


def test_accumulation_scales_the_loss_like_optim_wrapper():
    from mmengine.optim import OptimWrapper

    from mim_agnostic.engine.optimizers import NonFiniteGuardOptimWrapper
    grads = []
    for wrapper_cls in (OptimWrapper, NonFiniteGuardOptimWrapper):
        torch.manual_seed(0)
        layer = nn.Linear(2, 1)
        wrapper = wrapper_cls(torch.optim.SGD(layer.parameters(), lr=0.0),
                              accumulative_counts=2)
        wrapper.initialize_count_status(layer, 0, 2)
        wrapper.update_params(layer(torch.ones(1, 2)).sum())
        grads.append(layer.weight.grad.clone())
    assert torch.equal(grads[0], grads[1]) and grads[0].abs().sum() > 0
