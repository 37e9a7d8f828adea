"""kNN and linear-probe accuracy of a checkpoint's frozen backbone.

    python tools/evaluate.py configs/a2mim_r50.py work_dirs/a2mim_r50/epoch_300.pth \
        --data-root data/imagenet --protocol knn linear --out eval.json
    python tools/evaluate.py configs/a2mim_r50.py --data-root data/imagenet   # random init

CHECKPOINT: a pretraining checkpoint, a backbone extracted by tools/extract_backbone.py or a
classifier checkpoint; left out = the config's backbone at random init (the baseline).
Features of clean train/val images (resize to size/0.875, centre crop, the config's
normalisation, last stage pooled) are cached in --cache-dir; a second run reads them.
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

import mim_agnostic  # noqa: F401
from mim_agnostic.evaluation import PROTOCOLS, EvalSettings, evaluate_checkpoint, format_table
from mim_agnostic.evaluation.features import POOL_MODES
from mim_agnostic.evaluation.linear_probe import DEFAULT_WEIGHT_DECAYS
from mim_agnostic.utils.files import write_json
from mim_agnostic.utils.safe_load import UnsafeCheckpointError


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?', default=None,
                        help='pretraining / extracted / classifier checkpoint; omit for '
                        'random init')
    parser.add_argument('--data-root', required=True,
                        help='ImageNet layout: train/ and val/ class folders or meta/*.txt')
    parser.add_argument('--protocol', nargs='+', choices=PROTOCOLS, default=list(PROTOCOLS))
    parser.add_argument('--k', type=int, default=20, help='kNN neighbours')
    parser.add_argument('--temperature', type=float, default=0.07, help='kNN vote temperature')
    parser.add_argument('--pool', choices=POOL_MODES, default='avg',
                        help='avg: global average / mean of patch tokens; cls: ViT cls token')
    parser.add_argument('--train-split', default='train')
    parser.add_argument('--val-split', default='val')
    parser.add_argument('--image-size', type=int, default=None,
                        help='eval crop size (default: the config\'s training crop)')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--cache-dir', default='work_dirs/feature_cache',
                        help='feature cache folder; "none" disables the cache')
    parser.add_argument('--weight-decays', type=float, nargs='+',
                        default=list(DEFAULT_WEIGHT_DECAYS),
                        help='linear probe: weight decays tried on the held-out part of train')
    parser.add_argument('--holdout', type=float, default=0.2,
                        help='linear probe: fraction of each train class held out for the sweep')
    parser.add_argument('--seed', type=int, default=0,
                        help='random init of the backbone and the held-out split')
    parser.add_argument('--device', default=None, help='default: cuda if available, else cpu')
    parser.add_argument('--out', help='write the results as JSON')
    parser.add_argument('--save-classifier', metavar='DIR',
                        help='write DIR/classifier.py + classifier.pth: an mmpretrain '
                        'ImageClassifier (backbone + probe); implies --protocol linear')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. model.backbone.depth=18')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        print(f'error: config not found: {args.config}', file=sys.stderr)
        return 1
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mim_agnostic'))
    MMLogger.get_instance('mim_agnostic.evaluate', log_level='INFO')
    protocols = list(dict.fromkeys(args.protocol + (['linear'] if args.save_classifier else [])))
    settings = EvalSettings(
        data_root=args.data_root, protocols=protocols, k=args.k, temperature=args.temperature,
        pool=args.pool, train_split=args.train_split, val_split=args.val_split,
        image_size=args.image_size, batch_size=args.batch_size, num_workers=args.num_workers,
        cache_dir=None if args.cache_dir.lower() == 'none' else args.cache_dir,
        weight_decays=args.weight_decays, holdout=args.holdout, seed=args.seed,
        save_classifier=args.save_classifier)
    if args.device:
        settings.device = args.device
    try:
        results = evaluate_checkpoint(cfg, args.checkpoint, settings)
    except (FileNotFoundError, ValueError, UnsafeCheckpointError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(f'{args.checkpoint or "random init"} on {args.data_root}')
    print(format_table(results))
    if args.save_classifier:
        print(f'classifier: {results["linear"]["classifier"]["config"]} + '
              f'{results["linear"]["classifier"]["checkpoint"]}')
    if args.out:
        print(f'results -> {write_json(args.out, results)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
