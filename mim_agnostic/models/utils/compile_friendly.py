"""Small fixes that keep third-party modules traceable by ``torch.compile``."""
from mmcv.cnn.bricks.drop import DropPath
from torch import nn


def use_python_drop_probs(model: nn.Module) -> nn.Module:
    """mmpretrain builds drop-path rates with ``np.linspace``; mmcv's DropPath then branches
    on a numpy scalar, which breaks the ``torch.compile`` graph at every block. Store the
    rates as Python floats (same values)."""
    for module in model.modules():
        if isinstance(module, DropPath):
            module.drop_prob = float(module.drop_prob)
    return model
