"""Reconstruction picture of a checkpoint on your own images.

    python tools/visualize_reconstruction.py configs/a2mim_r50.py work_dirs/a2mim_r50/epoch_300.pth \
        img1.jpg img2.jpg --out recon.png

Each image is resized (short side) and centre-cropped to the mask generator's input_size,
masked like in training (--seed fixes the masks) and reconstructed; the PNG has one row per
image: masked input | reconstruction | original.
"""
import argparse
import sys

import mmcv
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose, default_collate
from mmengine.registry import init_default_scope

import mim_agnostic  # noqa: F401
from mim_agnostic.registry import MODELS
from mim_agnostic.utils.config_check import find_transforms
from mim_agnostic.utils.runtime import adapt_to_cpu
from mim_agnostic.utils.safe_load import check_weights_fit, load_weights
from mim_agnostic.visualization import render_reconstructions


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Save a reconstruction grid as a PNG')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('images', nargs='+', help='image files')
    parser.add_argument('--out', default='reconstruction.png', help='output PNG')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random masks')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg = adapt_to_cpu(cfg) if args.device == 'cpu' else cfg
    init_default_scope(cfg.get('default_scope', 'mim_agnostic'))
    masks = list(find_transforms(cfg.train_dataloader, 'model_patch_size'))
    if len(masks) != 1:
        raise ValueError(f'{args.config}: expected one mask generator in train_dataloader, '
                         f'found {len(masks)}')
    mask_cfg = masks[0][1]
    size = mask_cfg.get('input_size', 224)
    pipeline = Compose([
        dict(type='CheckedLoadImageFromFile'),
        dict(type='ResizeEdge', scale=size if isinstance(size, int) else max(size),
             edge='short'),
        dict(type='CenterCrop', crop_size=size),
        dict(mask_cfg),
        dict(type='PackInputs'),
    ])
    np.random.seed(args.seed)
    batch = default_collate([pipeline(dict(img_path=path)) for path in args.images])
    model = MODELS.build(cfg.model)
    state_dict = load_weights(args.checkpoint)  # weights only
    check_weights_fit(model, state_dict, args.checkpoint)  # not a checkpoint of this config
    model.load_state_dict(state_dict, strict=False)
    model.to(args.device)
    grid = render_reconstructions(model, batch)
    mmcv.imwrite(mmcv.rgb2bgr(grid), args.out)
    print(f'saved {args.out} ({len(args.images)} images)')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except (FileNotFoundError, ValueError) as error:  # bad checkpoint, image or config
        print(f'error: {error}', file=sys.stderr)
        sys.exit(1)
