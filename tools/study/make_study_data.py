"""Generate the study ImageNet (32 shape x texture classes with clutter, background texture,
scale and colour jitter) from a seed, in the real ImageNet layout.

    python tools/study/make_study_data.py data/study
    python tools/study/make_study_data.py data/study_small --num-classes 8 --train-per-class 20
"""
import argparse
import time
from dataclasses import fields

from mim_agnostic.datasets.study_data import StudySizes, make_study_data


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', nargs='?', default='data/study')
    parser.add_argument('--seed', type=int, default=0)
    for field in fields(StudySizes):
        parser.add_argument('--' + field.name.replace('_', '-'), type=int, default=field.default)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    sizes = StudySizes(**{field.name: getattr(args, field.name) for field in fields(StudySizes)})
    start = time.time()
    counts = make_study_data(args.out_dir, sizes, seed=args.seed)
    print(', '.join(f'{split} {n} images' for split, n in counts.items()) +
          f' of {sizes.num_classes} classes written to {args.out_dir} in '
          f'{time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
