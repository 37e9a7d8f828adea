"""mim_agnostic: architecture-agnostic masked image modeling on the OpenMMLab 2.x stack.

Importing the package applies the stack compatibility fixes (see ``utils/compat.py``) before
any OpenMMLab model code is imported.
"""
from .utils import compat as _compat

_compat.apply_all()

from .version import __version__  # noqa: E402

__all__ = ['__version__']
