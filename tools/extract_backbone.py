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
import os
import os.path as osp
import sys

import torch

import mim_agnostic  # noqa: F401
from mim_agnostic.utils.backbone_export import (FORMATS, backbone_weights, compare_keys,
                                                convert, detect_architecture, load_weights,
                                                reference_model)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint', help='MIM pretraining checkpoint (.pth)')
    parser.add_argument('out', help='output file')
    parser.add_argument('--to', choices=FORMATS, default='mmpretrain',
                        help='key naming of the output (mmpretrain, mmdet and mmseg share it)')
    return parser.parse_args(argv)


def extract(checkpoint: str, out: str, fmt: str = 'mmpretrain') -> dict:
    """Write the converted backbone of ``checkpoint`` to ``out``; returns its architecture."""
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    weights = backbone_weights(load_weights(checkpoint), checkpoint)
    arch = detect_architecture(weights)
    converted = convert(weights, arch, fmt)
    missing, unexpected, mismatched = compare_keys(reference_model(arch, fmt), converted)
    if missing or unexpected or mismatched:
        raise ValueError(f'{checkpoint} does not fit the {fmt} {arch["family"]} {arch}: '
                         f'missing {missing[:10]}, unexpected {unexpected[:10]}, '
                         f'mis-shaped {mismatched[:10]}')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.save(dict(state_dict=converted,
                    meta=dict(source=osp.abspath(checkpoint), format=fmt, arch=arch)), out)
    print(f'{fmt} {arch}: {len(converted)} tensors, '
          f'{sum(v.numel() for v in converted.values()) / 1e6:.2f} M values, 0 missing, '
          f'0 unexpected -> {out}')
    return arch


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        extract(args.checkpoint, args.out, args.to)
    except (FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
