"""Fixes for running the OpenMMLab 2.x stack (mmengine 0.10.7, mmpretrain 1.2.0) on current
PyTorch / setuptools / transformers, applied once when ``mim_agnostic`` is imported.

Each fix is a small function with the problem it solves in its docstring; ``apply_all`` runs
them. Nothing here changes a third-party file or needs an environment variable.
"""
import copy
import functools
import importlib.util
import os.path as osp
import re
import sys
from collections import OrderedDict
from importlib import metadata
from typing import List

import numpy as np
import torch

_APPLIED = False


def mmengine_checkpoint_safe_globals() -> List[object]:
    """The exact non-tensor types an mmengine checkpoint pickles (message hub history, numpy
    arrays and scalars kept in ``meta``), for torch's ``weights_only`` unpickler."""
    from mmengine.logging.history_buffer import HistoryBuffer
    multiarray = getattr(np, '_core', None) or np.core
    dtype_types = {type(np.dtype(t)) for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
        np.uint64, np.float16, np.float32, np.float64, np.complex64, np.complex128, np.str_,
        np.bytes_)}
    return [HistoryBuffer, multiarray.multiarray._reconstruct, multiarray.multiarray.scalar,
            np.ndarray, np.dtype, *sorted(dtype_types, key=lambda t: t.__name__)]


def allow_mmengine_checkpoints_with_weights_only() -> None:
    """torch >= 2.6 loads with ``weights_only=True`` by default and mmengine 0.10.7 passes no
    ``weights_only``: resuming fails on ``HistoryBuffer``/numpy objects. Allow-list exactly
    those types instead of switching weights_only off, so arbitrary pickles stay refused."""
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:
        add_safe_globals(mmengine_checkpoint_safe_globals())


DEFAULT_HISTORY_STATISTICS = ('min', 'max', 'current', 'mean')


def pickle_history_buffers_without_getattr() -> None:
    """mmengine's ``HistoryBuffer`` pickles its statistics methods, which pickle calls back
    as ``builtins.getattr(HistoryBuffer, 'min')``; allowing ``getattr`` under weights_only
    would let a file call any method of any allowed class. The default methods are restored
    on load anyway (``__setstate__``), so save only the custom ones."""
    from mmengine.logging.history_buffer import HistoryBuffer

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        custom = {name: method for name, method in self._statistics_methods.items()
                  if name not in DEFAULT_HISTORY_STATISTICS}
        if custom:
            state['statistics_methods'] = custom
        return state

    HistoryBuffer.__getstate__ = __getstate__


def resize_relative_position_bias_table(src_shape: int, dst_shape: int, table: torch.Tensor,
                                        num_head: int) -> torch.Tensor:
    """mmpretrain's BEiT table resize (geometric-progression grid, bicubic per head) with
    ``scipy.interpolate.interp2d``, removed in SciPy 1.14, replaced by the equivalent
    ``RectBivariateSpline`` on the same regular grid.

    Args:
        src_shape, dst_shape: side (2 * window - 1) of the source and target tables.
        table: (src_shape**2, num_head) relative position biases.
    Returns:
        (dst_shape**2, num_head) tensor.
    """
    from scipy.interpolate import RectBivariateSpline

    def geometric_sum(ratio: float, count: int) -> float:
        return (1.0 - ratio**count) / (1.0 - ratio)

    left, right = 1.01, 1.5
    while right - left > 1e-6:
        ratio = (left + right) / 2.0
        if geometric_sum(ratio, src_shape // 2) > dst_shape // 2:
            right = ratio
        else:
            left = ratio
    distances, current = [], 1.0
    for i in range(src_shape // 2):
        distances.append(current)
        current += ratio**(i + 1)
    source_grid = [-d for d in reversed(distances)] + [0] + distances
    half = dst_shape // 2.0
    target_grid = np.arange(-half, half + 0.1, 1.0)
    columns = []
    for head in range(num_head):
        values = table[:, head].view(src_shape, src_shape).float().cpu().numpy()
        spline = RectBivariateSpline(source_grid, source_grid, values, kx=3, ky=3)
        resized = torch.as_tensor(spline(target_grid, target_grid), dtype=torch.float32)
        columns.append(resized.reshape(-1, 1).to(table.device))
    return torch.cat(columns, dim=-1)


def resize_beit_tables_without_interp2d() -> None:
    """Loading BEiT-style ViT weights at another input size (detection at 1024 px,
    segmentation at 512 px) resizes the relative position tables through scipy's
    ``interp2d``, which SciPy >= 1.14 removed: use :func:`resize_relative_position_bias_table`."""
    import mmpretrain.models.backbones.beit as beit
    import mmpretrain.models.utils as model_utils
    import mmpretrain.models.utils.embed as embed
    for module in (beit, model_utils, embed):
        module.resize_relative_position_bias_table = resize_relative_position_bias_table


def _find_package_dir(package: str) -> str:
    """Folder of an installed package, given its import or distribution name
    ('mmsegmentation' -> .../site-packages/mmseg)."""
    module = package
    if importlib.util.find_spec(package) is None:
        try:
            top_level = metadata.distribution(package).read_text('top_level.txt') or ''
        except metadata.PackageNotFoundError:
            top_level = ''
        module = (top_level.split() or [package])[0]
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f'{package} is not installed (needed by a config that '
                                  f'inherits "{package}::" bases)')
    return osp.dirname(spec.origin)


def _is_installed(package: str) -> bool:
    try:
        metadata.distribution(package)
        return True
    except metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        return spec is not None and spec.origin is not None


def replace_pkg_resources_lookups() -> None:
    """mmengine resolves ``mmpretrain::``/``mmdet::``/``mmseg::`` config bases with
    ``pkg_resources`` (removed from setuptools >= 81, slow and deprecated before): use
    importlib instead, with the same results for regular packages."""
    import mmengine.config.config as config_module
    import mmengine.utils as mmengine_utils
    import mmengine.utils.package_utils as package_utils
    for module in (config_module, mmengine_utils, package_utils):
        module.is_installed = _is_installed
        module.get_installed_path = _find_package_dir


def strip_scope_from_collate_fn() -> None:
    """A config that inherits ``mmpretrain::`` bases gets ``_scope_`` injected into every dict
    with a ``type``, including ``collate_fn``; mmengine's Runner then passes it on as a keyword
    and ``default_collate()`` fails. Drop that key before the dataloader is built."""
    from mmengine.runner import Runner
    build_dataloader = Runner.build_dataloader
    if getattr(build_dataloader, '_mim_agnostic_patched', False):
        return

    @functools.wraps(build_dataloader)
    def build_without_collate_scope(dataloader, seed=None, diff_rank_seed=False):
        collate_cfg = dataloader.get('collate_fn') if isinstance(dataloader, dict) else None
        if isinstance(collate_cfg, dict) and '_scope_' in collate_cfg:
            dataloader = copy.copy(dataloader)
            dataloader['collate_fn'] = {k: v for k, v in collate_cfg.items() if k != '_scope_'}
        return build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)

    build_without_collate_scope._mim_agnostic_patched = True
    Runner.build_dataloader = staticmethod(build_without_collate_scope)


def transformers_major_version() -> int:
    """Major version of the installed transformers, 0 when it is absent."""
    try:
        return int(metadata.version('transformers').split('.')[0])
    except (metadata.PackageNotFoundError, ValueError):
        return 0


def disable_mmpretrain_multimodal_for_transformers5() -> None:
    """mmpretrain 1.2.0 enables its multimodal models whenever transformers >= 4.28 is
    installed; with transformers 5 their imports fail and take all of ``mmpretrain.models``
    down. Pre-load mmpretrain's dependency module with ``WITH_MULTIMODAL = False`` so the
    multimodal models are skipped (the vision models this toolkit uses are unaffected)."""
    name = 'mmpretrain.utils.dependency'
    if transformers_major_version() < 5 or name in sys.modules:
        return
    if 'mmpretrain.models' in sys.modules:
        raise ImportError('transformers >= 5 is installed and mmpretrain.models was imported '
                          'before mim_agnostic; import mim_agnostic first or install '
                          '"transformers<5"')
    path = osp.join(_find_package_dir('mmpretrain'), 'utils', 'dependency.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.WITH_MULTIMODAL = False
    sys.modules[name] = module


def load_every_checkpoint_safely() -> None:
    """Every mmengine local checkpoint read (``--resume``, ``load_from``, ``init_cfg``
    ``Pretrained``, the tools) goes through :func:`load_checkpoint_file` (weights only, a
    clear refusal of other pickles), and ``Pretrained`` initialisation refuses a file that
    fits less than half of the module instead of silently leaving it random."""
    from mmengine.logging import print_log
    from mmengine.model.weight_init import PretrainedInit
    from mmengine.runner import checkpoint as checkpoint_module

    from .safe_load import check_weights_fit, load_checkpoint_file

    def load_from_local(filename: str, map_location=None):
        return load_checkpoint_file(filename, map_location)

    checkpoint_module.CheckpointLoader.register_scheme(prefixes='', loader=load_from_local,
                                                       force=True)

    def pretrained_init(self, module) -> None:
        source = self.checkpoint
        if self.prefix is None:
            checkpoint = checkpoint_module._load_checkpoint(source, self.map_location)
            state_dict = checkpoint.get('state_dict', checkpoint) \
                if isinstance(checkpoint, dict) else checkpoint
            metadata = getattr(state_dict, '_metadata', None)  # BN versions etc.
            state_dict = OrderedDict((re.sub(r'^module\.', '', k), v)
                                     for k, v in state_dict.items())
            if metadata is not None:
                state_dict._metadata = metadata
        else:
            state_dict = checkpoint_module._load_checkpoint_with_prefix(
                self.prefix, source, map_location=self.map_location)
            source = f'{source} (prefix {self.prefix!r})'
        check_weights_fit(module, state_dict, source)
        print_log(f'load model from: {source}', logger='current')
        checkpoint_module.load_state_dict(module, state_dict, strict=False, logger='current')
        if hasattr(module, '_params_init_info'):
            from mmengine.model.weight_init import update_init_info
            update_init_info(module, init_info=self._get_init_info())

    PretrainedInit.__call__ = pretrained_init


OWN_CONFIGS = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')


def resolve_mim_agnostic_config_bases() -> None:
    """``_base_ = 'mim_agnostic::demo/a2mim_r50_demo.py'`` names a config of this repository,
    as ``mmpretrain::`` names one of mmpretrain's: researchers' packages inherit the
    toolkit's configs without relative paths into its checkout."""
    import mmengine.config.config as config_module
    from mmengine.config.utils import MODULE2PACKAGE
    MODULE2PACKAGE.setdefault('mim_agnostic', 'mim_agnostic')
    package_base_path = config_module._get_external_cfg_base_path
    package_model_path = config_module._get_external_cfg_path

    def external_cfg_path(package_path: str, cfg_name: str) -> str:
        if osp.basename(package_path) == 'mim_agnostic':  # no model-index: a plain path
            raise ValueError(cfg_name)
        return package_model_path(package_path, cfg_name)

    def external_cfg_base_path(package_path: str, cfg_name: str) -> str:
        if osp.basename(package_path) != 'mim_agnostic':
            return package_base_path(package_path, cfg_name)
        path = osp.join(OWN_CONFIGS, cfg_name)
        if not osp.isfile(path):
            raise FileNotFoundError(f'mim_agnostic::{cfg_name}: no such config in '
                                    f'{OWN_CONFIGS} (install the toolkit from its checkout: '
                                    'pip install -e .)')
        return path

    config_module._get_external_cfg_path = external_cfg_path
    config_module._get_external_cfg_base_path = external_cfg_base_path


def apply_all() -> None:
    """Apply every fix once (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    disable_mmpretrain_multimodal_for_transformers5()
    allow_mmengine_checkpoints_with_weights_only()
    pickle_history_buffers_without_getattr()
    replace_pkg_resources_lookups()
    resolve_mim_agnostic_config_bases()
    load_every_checkpoint_safely()
    strip_scope_from_collate_fn()
    resize_beit_tables_without_interp2d()
    _APPLIED = True
