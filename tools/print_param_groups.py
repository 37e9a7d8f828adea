"""Print the lr and weight decay every parameter of a config trains with.

    python tools/print_param_groups.py configs/a2mim_r50.py
    python tools/print_param_groups.py configs/a2mim_r50.py --all
    python tools/print_param_groups.py configs/a2mim_r50.py \\
        --cfg-options optim_wrapper.optimizer.weight_decay=0.1

Builds the config's model (on the CPU: SyncBN -> BN; no weights are loaded) and its
optimizer through the config's own optimizer-wrapper constructor, as training does, and
reads each parameter's param group. Default: parameters grouped by identical (lr, weight
decay), with the name patterns (numbers as ``*``), tensor ranks and counts of each group;
``--all``: one row per parameter with its shape. Values are as written in the config
(``--auto-scale-lr`` at train time rescales every lr by the same factor).
"""
import argparse
import sys

import mim_agnostic  # noqa: F401
from mmengine.config import DictAction
from mmengine.logging import MMLogger

from mim_agnostic.engine.optimizers import format_param_table, param_settings_of_config
from mim_agnostic.utils.runtime import load_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='training config (.py)')
    parser.add_argument('--all', action='store_true',
                        help='one row per parameter instead of groups')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. optim_wrapper.optimizer.lr=1e-3')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        cfg = load_config(args.config, args.cfg_options)
    except FileNotFoundError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    # the constructors log every parameter's options at INFO: the table says it once
    if not MMLogger.check_instance_created('print_param_groups'):
        MMLogger.get_instance('print_param_groups', log_level='WARNING')
    settings, base = param_settings_of_config(cfg)
    print(f'{args.config}: {cfg.optim_wrapper.optimizer.type}, constructor '
          f'{cfg.optim_wrapper.get("constructor", "DefaultOptimWrapperConstructor")}')
    print(format_param_table(settings, base, all_params=args.all))
    return 0


if __name__ == '__main__':
    sys.exit(main())
