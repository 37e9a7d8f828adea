"""Train (pretrain) a model from a config.

    python tools/train.py configs/demo/a2mim_r50_demo.py
    python tools/train.py configs/a2mim_r50.py --work-dir work_dirs/r50 --resume
    tools/dist_train.sh configs/a2mim_r50.py 8 --amp

Exit codes: 75 stopped by SIGTERM/SIGUSR1 after saving iter_<k>.pth (continue with --resume),
74 a checkpoint could not be saved (the previous one is intact).
"""
import argparse
import logging
import sys

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

import mim_agnostic  # noqa: F401  (compat fixes and registries)
from mim_agnostic.engine import TrainingStopped
from mim_agnostic.utils.config_check import check_image_dataset, check_mim_model_against_data
from mim_agnostic.utils.runtime import (adapt_to_cpu, add_run_arguments, init_cpu_process_group,
                                        load_config, parse_run_arguments)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model with mim_agnostic')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and checkpoints')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or without a path from the latest checkpoint '
        'in the work dir')
    parser.add_argument('--amp', action='store_true', help='mixed precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr linearly with the real total batch size')
    parser.add_argument('--no-pin-memory', action='store_true')
    parser.add_argument('--no-persistent-workers', action='store_true')
    add_run_arguments(parser, 'train_cfg.max_epochs=1 model.backbone.depth=101')
    return parse_run_arguments(parser, argv)


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    if args.amp:
        if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print_log('AMP is already enabled in the config', 'current', logging.WARNING)
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.pop('on_non_finite', None)  # the grad scaler skips inf steps
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise KeyError(f'--auto-scale-lr needs auto_scale_lr.base_batch_size in '
                           f'{args.config}')
        cfg.auto_scale_lr.enable = True
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(loader) is None:
            continue
        if args.no_pin_memory:
            cfg[loader]['pin_memory'] = False
        if args.no_persistent_workers:
            cfg[loader]['persistent_workers'] = False
    return adapt_to_cpu(cfg)


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = merge_args(
        load_config(args.config, args.cfg_options, args.work_dir, args.launcher), args)
    check_image_dataset(cfg)
    init_cpu_process_group(args.launcher)
    runner = Runner.from_cfg(cfg)
    check_mim_model_against_data(runner.model, cfg)
    try:
        runner.train()
    except TrainingStopped as stop:  # preempted (75) or a checkpoint save failed (74)
        print_log(str(stop), 'current', stop.log_level)
        sys.exit(stop.exit_code)


if __name__ == '__main__':
    main()
