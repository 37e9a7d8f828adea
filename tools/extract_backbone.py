"""Extract the backbone of an MIM pretraining checkpoint for fine-tuning.

    python tools/extract_backbone.py work_dirs/a2mim_r50/epoch_300.pth r50_a2mim.pth
    python tools/extract_backbone.py CKPT r50_tv.pth --to torchvision

Keeps ``backbone.*`` (prefix stripped), drops the mask token and gamma, the decoder, the
loss head and the optimizer state, renames keys for ``--to`` and checks them against the
plain target backbone: missing, unexpected or mis-shaped keys are an error. The output is a
``{'state_dict': ..., 'meta': ...}`` file that downstream configs load with
``init_cfg=dict(type='Pretrained', checkpoint=OUT)`` (no prefix).
"""
import argparse
import sys

import mim_agnostic  # noqa: F401
from mim_agnostic.utils.backbone_export import FORMATS, export_backbone


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint', help='MIM pretraining checkpoint (.pth)')
    parser.add_argument('out', help='output file')
    parser.add_argument('--to', choices=FORMATS, default='mmpretrain',
                        help='key naming of the output (mmpretrain, mmdet and mmseg share it)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        export_backbone(args.checkpoint, args.out, args.to)
    except (FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
