import glob
import json
import os
import os.path as osp
import subprocess

import pytest
from mmengine.registry import init_default_scope

import mim_agnostic  # noqa: F401  (compat fixes before any OpenMMLab import in the tests)
from mim_agnostic.datasets.demo_data import DemoSizes, make_demo_data

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

# Small enough for the whole suite, large enough for two epochs of batch 8 on ImageNet-style.
TEST_SIZES = DemoSizes(num_classes=4, imagenet_train_per_class=8, imagenet_val_per_class=2,
                       imagenet_size=128, coco_train=4, coco_val=2, coco_size=(96, 128),
                       ade_train=4, ade_val=2, ade_size=(96, 128))


@pytest.fixture(scope='session')
def demo_root(tmp_path_factory) -> str:
    """The three demo datasets, generated once per test session."""
    root = str(tmp_path_factory.mktemp('demo'))
    make_demo_data(root, TEST_SIZES, seed=0, show_progress=False)
    return root


@pytest.fixture(autouse=True)
def mim_agnostic_scope():
    """Every test starts in the toolkit's scope, as its configs do (some tests switch to
    mmdet/mmseg scopes to build those packages' datasets)."""
    init_default_scope('mim_agnostic')


def tool_env(pythonpath=()) -> dict:
    """Environment of a tool run: the repository (and ``pythonpath``) importable."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join([REPO_ROOT, *pythonpath]),
                OMP_NUM_THREADS='2')


def run(command, timeout=900, pythonpath=(), expect_failure=False) -> str:
    """Run a tool from the repository root; fail the test with its output if it fails (or,
    with ``expect_failure``, if it succeeds). ``pythonpath``: extra import folders."""
    result = subprocess.run(command, cwd=REPO_ROOT, env=tool_env(pythonpath),
                            capture_output=True, text=True, timeout=timeout)
    output = result.stdout + result.stderr
    assert (result.returncode != 0) == expect_failure, \
        f'exit {result.returncode}\n' + result.stdout[-3000:] + result.stderr[-5000:]
    return output


def scalars(work_dir) -> list:
    """Training records (with a loss) of every run in a work dir, oldest run first."""
    records = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            records += [json.loads(line) for line in f if '"loss"' in line]
    return records
