"""Device-dependent adjustments of a training config (GPU clusters and CPU-only machines)."""
import argparse
import logging
import os
import os.path as osp
import tempfile
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.model.utils import _BatchNormXd
from mmengine.registry import MODELS as ROOT_MODELS

from mim_agnostic.datasets.image_folder import use_image_folder

# SyncBN without a GPU process group becomes mmengine's BatchNorm without an input-rank check
# (what revert_sync_batchnorm uses): BN2d for maps, and still valid on the (B, C) inputs of
# projector MLPs. Registered at the root so mmdet/mmseg scopes find it too.
CPU_BN = 'BNXd'
if CPU_BN not in ROOT_MODELS.module_dict:
    ROOT_MODELS.register_module(CPU_BN, module=_BatchNormXd)


def add_run_arguments(parser: argparse.ArgumentParser, example: str) -> None:
    """The flags train.py and test.py share: --cfg-options, --launcher, --local-rank."""
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help=f'override config keys, e.g. {example}')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_run_arguments(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))  # torch.distributed.launch
    return args


def load_config(path: str, cfg_options: Optional[dict] = None, work_dir: Optional[str] = None,
                launcher: str = 'none', data_root: Optional[str] = None) -> Config:
    """A config as the tools use it: ``--cfg-options`` merged, ``launcher`` set, the work
    dir ``--work-dir``, else the config's own, else ``work_dirs/<config name>``, and the
    training images those of the folder ``train_data_root`` (``--data-root``) if set."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'config not found: {path}')
    cfg = Config.fromfile(path)
    cfg.launcher = launcher
    if data_root is not None:
        if 'train_data_root' not in cfg:
            raise ValueError(f'--data-root: {path} is not a pretraining config (it has no '
                           'train_data_root key; the pretraining configs inherit it from '
                           'configs/_base_/datasets/imagenet_a2mim_224.py)')
        cfg.train_data_root = data_root
    # switch to the folder before --cfg-options, so they can tune its dataset, and after,
    # for a train_data_root set among them
    use_image_folder(cfg)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
        use_image_folder(cfg)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    return cfg


def load_package_config(package: str, path: str) -> Config:
    """A config shipped by an installed OpenMMLab package, loaded the way user configs see it
    (through ``_base_ = '<package>::<path>'``, which resolves its own relative bases)."""
    with tempfile.TemporaryDirectory() as tmp:
        config = osp.join(tmp, 'inherits.py')
        with open(config, 'w') as f:
            f.write(f"_base_ = ['{package}::{path}']\n")
        return Config.fromfile(config)


def has_accelerator() -> bool:
    return torch.cuda.is_available()


def adapt_to_cpu(cfg: Config) -> Config:
    """Without a GPU: mixed precision falls back to fp32 (mmengine's AmpOptimWrapper needs an
    accelerator), SyncBN to BN, and distributed runs use gloo and a device-less DDP."""
    if has_accelerator():
        return cfg
    if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper':
        print_log('no GPU: AmpOptimWrapper -> NonFiniteGuardOptimWrapper (fp32)', 'current',
                  logging.WARNING)
        cfg.optim_wrapper.type = 'NonFiniteGuardOptimWrapper'
        cfg.optim_wrapper.pop('loss_scale', None)
        cfg.optim_wrapper.pop('dtype', None)
    cfg.model = replace_sync_bn(cfg.model)
    if cfg.get('launcher', 'none') != 'none':
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None)
    return cfg


def replace_sync_bn(node):
    """A copy of a (nested) config with every ``type='SyncBN'`` turned into
    :data:`CPU_BN` (SyncBN needs a GPU process group)."""
    if isinstance(node, dict):
        return type(node)({key: CPU_BN if key == 'type' and value == 'SyncBN'
                           else replace_sync_bn(value) for key, value in node.items()})
    if isinstance(node, (list, tuple)):
        return type(node)(replace_sync_bn(value) for value in node)
    return node


def init_cpu_process_group(launcher: str) -> None:
    """mmengine's pytorch launcher calls ``torch.cuda.set_device``, which fails without a
    GPU: start the gloo process group here so the Runner finds it already initialised."""
    if launcher == 'none' or has_accelerator() or dist.is_initialized():
        return
    if launcher != 'pytorch':
        raise RuntimeError(f'launcher={launcher!r} without a GPU: only "pytorch" (torchrun, '
                           'tools/dist_train.sh) supports CPU runs')
    dist.init_process_group(backend='gloo', rank=int(os.environ['RANK']),
                            world_size=int(os.environ['WORLD_SIZE']))
