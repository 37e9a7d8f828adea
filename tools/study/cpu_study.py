"""The CPU evaluation study: A²MIM / SimMIM / SymMIM / supervised / random init on ResNet-18
and ViT-tiny, on generated data; kNN + linear top-1, Fourier and J(m) curves.

    python tools/study/cpu_study.py                       # everything, resumes if interrupted
    python tools/study/cpu_study.py --stages data pretrain
    python tools/study/cpu_study.py --stages report --plots-to docs/images

Stages (each skipped where its results exist): data (tools/study/make_study_data.py),
pretrain (tools/train.py on configs/study/*), evaluate (tools/evaluate.py --protocol knn
linear --save-classifier), fourier (tools/analysis/fourier_features.py, one figure per
backbone), interaction (tools/analysis/interaction_order.py on the exported linear-probe
classifiers), report (OUT_DIR/results.{json,md}).
"""
import argparse
import time

from mim_agnostic.datasets.study_data import StudySizes
from mim_agnostic.study import BACKBONES, METHODS, STAGES, Study, StudySettings, study_models


def parse_args() -> argparse.Namespace:
    defaults = StudySettings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out-dir', default=defaults.out_dir)
    parser.add_argument('--data-root', default=defaults.data_root)
    parser.add_argument('--seed', type=int, default=defaults.seed,
                        help='seed of the data and of every training run')
    parser.add_argument('--stages', nargs='+', default=list(STAGES), choices=STAGES)
    parser.add_argument('--backbones', nargs='+', default=list(BACKBONES), choices=BACKBONES)
    parser.add_argument('--methods', nargs='+', default=list(METHODS), choices=METHODS)
    parser.add_argument('--config-dir', default='configs/study')
    parser.add_argument('--plots-to', help='also copy the plots here as '
                        'study_<fourier|interaction>_<backbone>.png')
    parser.add_argument('--jobs', type=int, default=defaults.jobs,
                        help='runs at a time in the pretrain and evaluate stages')
    parser.add_argument('--threads', type=int, default=defaults.threads,
                        help='intra-op threads per run (1: on a shared 2-core machine two '
                        'threads per process are several times slower than one)')
    for name in ('fourier_images', 'interaction_images', 'interaction_pairs',
                 'interaction_contexts', 'interaction_grid'):
        parser.add_argument('--' + name.replace('_', '-'), type=int,
                            default=getattr(defaults, name))
    parser.add_argument('--interaction-orders', type=float, nargs='+',
                        default=list(defaults.interaction_orders))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    settings = StudySettings(**{key: getattr(args, key)
                                for key in vars(StudySettings()) if hasattr(args, key)})
    settings.interaction_orders = tuple(settings.interaction_orders)
    models = [model for model in study_models(args.config_dir, args.backbones)
              if model.method in args.methods]
    start = time.time()
    Study(settings, models, StudySizes()).run(args.stages, args.plots_to)
    print(f'study stages {" ".join(args.stages)} took {(time.time() - start) / 60:.1f} min')


if __name__ == '__main__':
    main()
