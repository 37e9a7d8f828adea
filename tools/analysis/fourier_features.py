"""Relative log amplitude of high-frequency components of feature maps, per stage, for
several models on one figure (Park & Kim 2022; the A²MIM paper's Fourier analysis).

    python tools/analysis/fourier_features.py \
        --model A2MIM configs/demo/a2mim_r50_demo.py work_dirs/a2mim/epoch_2.pth \
        --model random configs/demo/a2mim_r50_demo.py \
        --data-root data/demo/imagenet --out-dir work_dirs/analysis

CHECKPOINT: a pretraining or classifier checkpoint, an extracted backbone, or absent (random
init). Writes OUT_DIR/fourier_features.png and OUT_DIR/fourier_features.json.
"""
import argparse
import os.path as osp
import sys
import time

import torch
from mmengine.config import Config

import mim_agnostic  # noqa: F401
from mim_agnostic.analysis import FeatureTaps, default_taps, fourier_features, parse_tap
from mim_agnostic.analysis.loading import load_backbone, normalised_images
from mim_agnostic.analysis.plotting import plot_panels
from mim_agnostic.utils.files import write_json
from mim_agnostic.evaluation.data import build_eval_dataloader, scan_split


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model', action='append', nargs='+', required=True,
                        metavar=('LABEL CONFIG', 'CHECKPOINT'),
                        help='LABEL CONFIG [CHECKPOINT]; repeat for several models')
    parser.add_argument('--data-root', required=True, help='ImageNet-layout data root')
    parser.add_argument('--split', default='val')
    parser.add_argument('--stages', nargs='+', type=parse_tap,
                        help='stage indices or module paths (default: every stage)')
    parser.add_argument('--per-block', action='store_true',
                        help='tap every block instead of every stage (finer depth curve)')
    parser.add_argument('--num-images', type=int, default=64)
    parser.add_argument('--image-size', type=int, help='default: the config\'s crop size')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--spectra', action='store_true',
                        help='also write fourier_spectra.png: Delta log amplitude vs '
                             'frequency of every tap, one panel per model')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return parser.parse_args(argv)


def model_specs(models: list) -> list:
    """(label, config, checkpoint or None) of each --model; bad ones fail before any work."""
    specs = []
    for spec in models:
        if len(spec) not in (2, 3):
            raise ValueError(f'--model {" ".join(spec)}: expected LABEL CONFIG [CHECKPOINT]')
        label, config, checkpoint = (*spec, None)[:3]
        for path in (config, checkpoint):
            if path and not osp.isfile(path):
                raise FileNotFoundError(f'--model {label}: no such file {path}')
        specs.append((label, config, checkpoint))
    labels = [label for label, _, _ in specs]
    if len(set(labels)) != len(labels):
        raise ValueError(f'--model labels must differ, got {labels}')
    return specs


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.num_images < 1:
        raise ValueError(f'--num-images {args.num_images}: need at least one image')
    specs = model_specs(args.model)
    models = {}
    for label, config, checkpoint in specs:  # every model and tap checked before the data
        backbone, preprocessor = load_backbone(config, checkpoint)
        taps = args.stages or default_taps(backbone, args.per_block)
        FeatureTaps(backbone, taps)  # a stage that does not exist fails here
        models[label] = (config, checkpoint, backbone.to(args.device),
                         preprocessor.to(args.device), taps)
    results = {}
    files = scan_split(args.data_root, args.split)  # once for every model
    for label, (config, checkpoint, backbone, preprocessor, taps) in models.items():
        loader = build_eval_dataloader(Config.fromfile(config), args.data_root, args.split,
                                       batch_size=args.batch_size,
                                       num_workers=args.num_workers,
                                       image_size=args.image_size, files=files)
        batches = (normalised_images(preprocessor, batch)[0] for batch in loader)
        start = time.time()
        print(f'{label}: {len(taps)} taps on {args.num_images} images')
        result = fourier_features(backbone, batches, taps, args.num_images)
        result.update(config=config, checkpoint=checkpoint,
                      seconds_per_image=(time.time() - start) / result['num_images'])
        results[label] = result
        print('  high-frequency Delta log amplitude: ' + ', '.join(
            f'{path} {value:.3f}' for path, value in zip(result['taps'],
                                                         result['high_frequency'])))
    settings = dict(data_root=args.data_root, split=args.split, num_images=args.num_images,
                    image_size=args.image_size, per_block=args.per_block,
                    definition='log(|FFT2| + 1e-6) averaged over images and channels, read on '
                               'the spectrum diagonal (k, k) 2pi/h for k = 0..h/2; Delta = '
                               'value - value at frequency 0; high_frequency = Delta at the '
                               'highest frequency (pi on an even grid)')
    last = {label: (r['frequency'][r['taps'][-1]], r['delta_log_amplitude'][r['taps'][-1]])
            for label, r in results.items()}
    png = plot_panels([
        ('High-frequency amplitude per stage', 'normalized depth',
         r'$\Delta$ log amplitude at the highest frequency',
         {label: (r['depth'], r['high_frequency']) for label, r in results.items()}),
        ('Last tapped stage', r'frequency ($\times\pi$)', r'$\Delta$ log amplitude', last),
    ], osp.join(args.out_dir, 'fourier_features.png'),
        f'Relative log amplitude of Fourier-transformed feature maps ({args.split}, '
        f'{args.num_images} images)')
    # the JSON last: its presence means the whole analysis is on disk
    json_path = write_json(osp.join(args.out_dir, 'fourier_features.json'),
                           dict(settings=settings, models=results))
    print(f'saved {png} and {json_path}')
    if args.spectra:
        panels = [(label, r'frequency ($\times\pi$)', r'$\Delta$ log amplitude',
                   {path: (r['frequency'][path], r['delta_log_amplitude'][path])
                    for path in r['taps']}) for label, r in results.items()]
        print('saved ' + plot_panels(panels, osp.join(args.out_dir, 'fourier_spectra.png'),
                                     'Delta log amplitude of every tap (dark: shallow)',
                                     colormap='plasma'))
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except (FileNotFoundError, ValueError) as error:  # bad model, stage, data root
        print(f'error: {error}', file=sys.stderr)
        sys.exit(1)
