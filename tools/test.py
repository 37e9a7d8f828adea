"""Evaluate a checkpoint with the config's test loop and evaluator (COCO AP, mIoU, top-1).

    python tools/test.py configs/demo/downstream/mask-rcnn_r50-a2mim_fpn_demo.py work_dirs/.../epoch_2.pth
    tools/dist_test.sh CONFIG CHECKPOINT 8
"""
import argparse
import os.path as osp

from mmengine.runner import Runner

import mim_agnostic  # noqa: F401  (compat fixes and registries)
from mim_agnostic.utils.runtime import (adapt_to_cpu, add_run_arguments, init_cpu_process_group,
                                        load_config, parse_run_arguments)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (evaluate) a checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    add_run_arguments(parser, 'test_dataloader.batch_size=4')
    return parse_run_arguments(parser, argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg = load_config(args.config, args.cfg_options, args.work_dir, args.launcher)
    for key in ('test_dataloader', 'test_evaluator', 'test_cfg'):
        if cfg.get(key) is None:
            raise KeyError(f'{args.config} has no {key}: it cannot be evaluated')
    cfg.load_from = args.checkpoint
    cfg = adapt_to_cpu(cfg)
    init_cpu_process_group(args.launcher)
    return Runner.from_cfg(cfg).test()


if __name__ == '__main__':
    main()
