"""Convert another codebase's checkpoint into a toolkit checkpoint.

    python tools/convert_checkpoint.py a2mim_r50_ep300.pth r50_a2mim.pth --from openmixup
    python tools/convert_checkpoint.py simmim_pretrain__vit_base__img224__800ep.pth vit.pth \
        --from simmim
    python tools/convert_checkpoint.py resnet50-0676ba61.pth r50_tv.pth --from torchvision \
        --config configs/demo/a2mim_r50_demo.py

The source format is recognised from the key names (a wrong --from names what the file
looks like); every key is checked against the model of --config (default: the toolkit
config of the same method and size): missing, unexpected or mis-shaped keys are an error and
nothing is written. Supervised timm/torchvision/mmpretrain weights fill the backbone only;
mask token and decoder keep their initialisation (reported). The output
``{'state_dict', 'meta'}`` works with ``load_from=OUT``, tools/visualize_reconstruction.py and
tools/extract_backbone.py. Key tables: docs/checkpoints.md.
"""
import argparse
import sys

from mmengine.config import DictAction

import mim_agnostic  # noqa: F401
from mim_agnostic.utils.checkpoint_import import SOURCES, format_report, import_checkpoint


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='checkpoint to convert (.pth)')
    parser.add_argument('out', help='output toolkit checkpoint')
    parser.add_argument('--from', dest='source', choices=SOURCES, required=True,
                        help='codebase that wrote SRC')
    parser.add_argument('--config', help='toolkit config whose model receives the weights '
                        '(default: the one of the same method and size as SRC)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override keys of --config, e.g. model.backbone.depth=101')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        conversion = import_checkpoint(args.src, args.out, args.source, args.config,
                                       args.cfg_options)
    except (FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(format_report(conversion, args.out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
