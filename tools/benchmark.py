"""Benchmark the training step of A²MIM against the plain backbone and CNN-MIM peers.

    python tools/benchmark.py --backbone r50 --batch 8 --size 224 --steps 5
    python tools/benchmark.py --backbone vit-b --device cuda --amp bf16 --steps 20
    python tools/benchmark.py --pipeline data/demo/imagenet --pipeline-images 200

Prints a table (median step time, images/s, ratio to the plain supervised step, peak
memory) and writes it as JSON (--out).
"""
import argparse
import json
import os.path as osp

import torch

import mim_agnostic  # noqa: F401
from mim_agnostic.benchmark import (BACKBONES, METHODS, benchmark_methods, benchmark_pipeline,
                                    format_table)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--backbone', choices=sorted(BACKBONES), default='r50')
    parser.add_argument('--methods', nargs='+', choices=METHODS, default=list(METHODS))
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--amp', choices=['fp16', 'bf16'], help='mixed precision (GPU)')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--compile', action='store_true', help='torch.compile the backbone')
    parser.add_argument('--steps', type=int, default=3, help='timed steps per round')
    parser.add_argument('--warmup', type=int, default=1, help='untimed steps per round')
    parser.add_argument('--rounds', type=int, default=3,
                        help='rounds over all methods (the median of all timed steps)')
    parser.add_argument('--no-cpu-memory', action='store_true',
                        help='skip the per-method peak memory runs on CPU')
    parser.add_argument('--pipeline', metavar='DATA_ROOT',
                        help='benchmark the data pipeline on this ImageNet-style folder instead')
    parser.add_argument('--pipeline-images', type=int, default=100)
    parser.add_argument('--out', default='benchmark.json', help='JSON output file')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.pipeline:
        if not osp.isdir(args.pipeline):
            raise FileNotFoundError(f'--pipeline folder not found: {args.pipeline}')
        result = dict(pipeline=benchmark_pipeline(args.pipeline, args.pipeline_images,
                                                  args.size))
        print('\n'.join(f'{k}: {v:.4g}' for k, v in result['pipeline'].items()))
    else:
        rows = benchmark_methods(args.backbone, args.batch, args.size, args.device,
                                 args.steps, args.warmup, args.amp, args.channels_last,
                                 args.compile, args.methods, not args.no_cpu_memory,
                                 args.rounds)
        result = dict(rows=rows, torch=torch.__version__,
                      device_name=torch.cuda.get_device_name() if args.device.startswith('cuda')
                      else 'cpu', threads=torch.get_num_threads())
        print(format_table(rows))
    with open(args.out, 'w') as f:
        json.dump(result, f, indent=2)
    print(f'written to {args.out}')
    return result


if __name__ == '__main__':
    main()
