"""Generate the small demo datasets (ImageNet, COCO, ADE20K formats) from a seed.

    python tools/make_demo_data.py data/demo            # all three, default sizes
    python tools/make_demo_data.py data/demo --datasets imagenet --imagenet-train-per-class 64
"""
import argparse
import time

from mim_agnostic.datasets.demo_data import DATASETS, DemoSizes, make_demo_data


def parse_args() -> argparse.Namespace:
    defaults = DemoSizes()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', nargs='?', default='data/demo',
                        help='root folder; each dataset goes to OUT_DIR/<name>')
    parser.add_argument('--datasets', nargs='+', default=list(DATASETS), choices=DATASETS)
    parser.add_argument('--seed', type=int, default=0)
    for field, value in vars(defaults).items():
        flag = '--' + field.replace('_', '-')
        if isinstance(value, tuple):
            parser.add_argument(flag, type=int, nargs=2, default=list(value),
                                metavar=('H', 'W'))
        else:
            parser.add_argument(flag, type=int, default=value)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    sizes = DemoSizes(**{field: tuple(getattr(args, field)) if isinstance(value, tuple)
                         else getattr(args, field)
                         for field, value in vars(DemoSizes()).items()})
    start = time.time()
    counts = make_demo_data(args.out_dir, sizes, seed=args.seed, datasets=args.datasets)
    for name, splits in counts.items():
        print(f'{name}: ' + ', '.join(f'{split} {n} images' for split, n in splits.items()))
    print(f'written to {args.out_dir} in {time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
