"""Multi-order interaction strength J(m) of classifiers, several on one figure (Deng et al.
2022, "Discovering and explaining the representation bottleneck of DNNs"; the A²MIM paper's
analysis).

    python tools/analysis/interaction_order.py \
        --model A2MIM work_dirs/probe_a2mim/classifier.py work_dirs/probe_a2mim/classifier.pth \
        --model SimMIM work_dirs/probe_simmim/classifier.py work_dirs/probe_simmim/classifier.pth \
        --data-root data/demo/imagenet --grid 8 --out-dir work_dirs/analysis

The classifier is any mmpretrain classifier config + checkpoint, e.g. the one
`tools/evaluate.py --save-classifier DIR` writes (DIR/classifier.py, DIR/classifier.pth).
Writes OUT_DIR/interaction_order.png and OUT_DIR/interaction_order.json.
"""
import argparse
import os.path as osp
import sys
import time

import torch
from mmengine.config import Config

import mim_agnostic  # noqa: F401
from mim_agnostic.analysis import check_request, multi_order_interaction
from mim_agnostic.analysis.interaction_order import DEFAULT_RATIOS, SCORES, forward_passes
from mim_agnostic.analysis.loading import (classifier_image_size, load_classifier,
                                           normalised_images)
from mim_agnostic.analysis.plotting import plot_panels
from mim_agnostic.utils.files import write_json
from mim_agnostic.evaluation.data import build_eval_dataloader, scan_split


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model', action='append', nargs=3, required=True,
                        metavar=('LABEL', 'CLASSIFIER_CONFIG', 'CLASSIFIER_CKPT'),
                        help='repeat for several classifiers')
    parser.add_argument('--data-root', required=True, help='ImageNet-layout data root')
    parser.add_argument('--split', default='val')
    parser.add_argument('--grid', type=int, default=8, help='G: G x G patches (players)')
    parser.add_argument('--num-images', type=int, default=8)
    parser.add_argument('--num-pairs', type=int, default=8, help='patch pairs per image')
    parser.add_argument('--num-contexts', type=int, default=8,
                        help='random contexts S per pair and order')
    parser.add_argument('--orders', type=float, nargs='+', default=list(DEFAULT_RATIOS),
                        metavar='r', help='ratios r: order m = floor(r (n - 2))')
    parser.add_argument('--score', choices=SCORES, default='log_odds',
                        help='log p/(1-p) of the true class (the paper) or its logit')
    parser.add_argument('--image-size', type=int,
                        help='default: the classifier config\'s test_pipeline crop (what '
                             '--save-classifier writes), else its training crop')
    parser.add_argument('--batch-size', type=int, default=128, help='images per forward')
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.num_images < 1:
        raise ValueError(f'--num-images {args.num_images}: need at least one image')
    image_size = (args.image_size, ) * 2 if args.image_size else None
    orders = check_request(args.grid, image_size, args.orders, args.num_pairs,
                           args.num_contexts)
    labels = [label for label, _, _ in args.model]
    if len(set(labels)) != len(labels):
        raise ValueError(f'--model labels must differ, got {labels}')
    for label, config, checkpoint in args.model:
        for path in (config, checkpoint):
            if not osp.isfile(path):
                raise FileNotFoundError(f'--model {label}: no such file {path}')
    classifiers = {label: (config, checkpoint, load_classifier(config, checkpoint).to(args.device))
                   for label, config, checkpoint in args.model}
    print(f'{args.grid}x{args.grid} patches, orders m = {orders}; '
          f'{forward_passes(args.grid, orders, args.num_pairs, args.num_contexts)} '
          'forward passes per image')
    results = {}
    files = scan_split(args.data_root, args.split)  # once for every model
    for label, (config, checkpoint, model) in classifiers.items():
        loader = build_eval_dataloader(Config.fromfile(config), args.data_root, args.split,
                                       batch_size=args.batch_size,
                                       num_workers=args.num_workers,
                                       image_size=args.image_size or
                                       classifier_image_size(config), files=files)

        def batches():
            for batch in loader:
                images, samples = normalised_images(model.data_preprocessor, batch)
                yield images, torch.cat([s.gt_label for s in samples]).to(images.device)

        start = time.time()
        result = multi_order_interaction(
            lambda x: model(x, mode='tensor'), batches(), args.grid, args.orders,
            args.num_images, args.num_pairs, args.num_contexts, args.score, args.batch_size,
            args.seed)
        result.update(config=config, checkpoint=checkpoint,
                      seconds_per_image=(time.time() - start) / result['num_images'])
        results[label] = result
        print(f'{label}: J(m) = ' + ', '.join(f'{r:g}: {j:.3f}' for r, j in
                                             zip(args.orders, result['J'])))
    settings = dict(data_root=args.data_root, split=args.split, grid=args.grid,
                    num_images=args.num_images, num_pairs=args.num_pairs,
                    num_contexts=args.num_contexts, ratios=args.orders, score=args.score,
                    seed=args.seed, image_size=args.image_size,
                    baseline='masked patches = the image\'s per-channel mean',
                    normalisation='J(m) = E|I^(m)| / mean over the evaluated orders')
    png = plot_panels([
        ('Multi-order interaction strength', r'order ratio $m / (n - 2)$', r'$J^{(m)}$',
         {label: ([m / (r['num_patches'] - 2) for m in r['orders']], r['J'], r['J_sem'])
          for label, r in results.items()}),
    ], osp.join(args.out_dir, 'interaction_order.png'),
        f'{args.grid}x{args.grid} patches, {args.num_images} images, {args.num_pairs} pairs, '
        f'{args.num_contexts} contexts, {args.score}; band: +- 1 standard error')
    # the JSON last: its presence means the whole analysis is on disk
    json_path = write_json(osp.join(args.out_dir, 'interaction_order.json'),
                           dict(settings=settings, models=results))
    print(f'saved {png} and {json_path}')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except (FileNotFoundError, ValueError) as error:  # bad classifier, request, data root
        print(f'error: {error}', file=sys.stderr)
        sys.exit(1)
