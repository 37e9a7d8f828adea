"""Registries of mim_agnostic: children of mmpretrain's, scope ``mim_agnostic``.

With ``default_scope='mim_agnostic'`` a config reaches every component registered here and,
through the parents, every mmpretrain and mmengine component. Modules (ours and mmpretrain's)
are imported lazily from ``locations`` the first time a registry builds in this scope.
"""
from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain_registry


def _child(name: str, parent_name: str, location: str = '') -> Registry:
    parent = getattr(mmpretrain_registry, parent_name)
    # a child searches its parents' modules but never imports them: import mmpretrain's
    # locations too, so every mmpretrain component is found from scope 'mim_agnostic'
    registry = Registry(
        name,
        parent=parent,
        scope='mim_agnostic',
        locations=list(parent._locations) + ([location] if location else []))
    # mmengine resolves a prefixed type ('mim_agnostic.SimpleFeaturePyramid' in an mmdet or
    # mmseg config) only among the root's direct children: list this grandchild there too
    parent._get_root_registry()._children.setdefault('mim_agnostic', registry)
    return registry


RUNNERS = _child('runner', 'RUNNERS', 'mim_agnostic.engine')
RUNNER_CONSTRUCTORS = _child('runner constructor', 'RUNNER_CONSTRUCTORS', 'mim_agnostic.engine')
LOOPS = _child('loop', 'LOOPS', 'mim_agnostic.engine')
HOOKS = _child('hook', 'HOOKS', 'mim_agnostic.engine')
LOG_PROCESSORS = _child('log processor', 'LOG_PROCESSORS', 'mim_agnostic.engine')
OPTIMIZERS = _child('optimizer', 'OPTIMIZERS', 'mim_agnostic.engine')
OPTIM_WRAPPERS = _child('optimizer_wrapper', 'OPTIM_WRAPPERS', 'mim_agnostic.engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    'OPTIM_WRAPPER_CONSTRUCTORS', 'mim_agnostic.engine')
PARAM_SCHEDULERS = _child('parameter scheduler', 'PARAM_SCHEDULERS', 'mim_agnostic.engine')

DATASETS = _child('dataset', 'DATASETS', 'mim_agnostic.datasets')
DATA_SAMPLERS = _child('data sampler', 'DATA_SAMPLERS', 'mim_agnostic.datasets')
TRANSFORMS = _child('transform', 'TRANSFORMS', 'mim_agnostic.datasets')

MODELS = _child('model', 'MODELS', 'mim_agnostic.models')
MODEL_WRAPPERS = _child('model_wrapper', 'MODEL_WRAPPERS', 'mim_agnostic.models')
WEIGHT_INITIALIZERS = _child('weight initializer', 'WEIGHT_INITIALIZERS', 'mim_agnostic.models')
TASK_UTILS = _child('task util', 'TASK_UTILS', 'mim_agnostic.models')

METRICS = _child('metric', 'METRICS')
EVALUATORS = _child('evaluator', 'EVALUATORS')

VISUALIZERS = _child('visualizer', 'VISUALIZERS', 'mim_agnostic.visualization')
VISBACKENDS = _child('vis_backend', 'VISBACKENDS', 'mim_agnostic.visualization')
