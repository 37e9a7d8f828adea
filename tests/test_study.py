"""The evaluation study's pieces: its generated data and its configs (the study itself is a
script, tools/study/cpu_study.py, not a test)."""
import filecmp
import glob
import hashlib
import os
import os.path as osp

import cv2
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate

from mim_agnostic.datasets.study_data import StudySizes, make_study_data, study_class_name
from mim_agnostic.registry import DATASETS, MODELS
from mim_agnostic.study import Study, StudySettings, study_models, write_json
from mim_agnostic.utils.config_check import check_mim_model_against_data
from conftest import REPO_ROOT

SMALL = StudySizes(num_classes=5, train_per_class=3, val_per_class=2, image_size=72)
STUDY_CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'study', '*.py')))


@pytest.fixture(scope='module')
def study_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('study'))
    make_study_data(root, SMALL, seed=3, show_progress=False)
    return root


def read_list(root: str, split: str) -> list:
    with open(osp.join(root, 'meta', f'{split}.txt')) as f:
        return [line.split() for line in f.read().splitlines()]


def digest(path: str) -> str:
    with open(path, 'rb') as f:
        return hashlib.sha1(f.read()).hexdigest()


def test_study_data_is_the_imagenet_layout_with_disjoint_splits(study_root):
    with open(osp.join(study_root, 'meta', 'classes.txt')) as f:
        assert f.read().split() == ['circle_solid', 'square_solid', 'triangle_solid',
                                    'star_solid', 'hexagon_solid']
    assert study_class_name(9) == 'square_stripes'  # 8 outlines, then the next texture
    digests = {}
    for split, per_class in (('train', 3), ('val', 2)):
        entries = read_list(study_root, split)
        assert len(entries) == 5 * per_class
        folders = sorted(os.listdir(osp.join(study_root, split)))
        assert folders == [f'n{label:08d}' for label in range(5)]
        for name, label in entries:
            assert name.split('/')[0] == f'n{int(label):08d}'
            image = cv2.imread(osp.join(study_root, split, name))
            assert image.shape == (72, 72, 3)
        digests[split] = {digest(osp.join(study_root, split, name)) for name, _ in entries}
        assert len(digests[split]) == len(entries)  # no duplicate pictures
    assert not digests['train'] & digests['val']  # held-out images are never trained on


def test_study_data_is_deterministic_from_the_seed(study_root, tmp_path):
    make_study_data(str(tmp_path / 'same'), SMALL, seed=3, show_progress=False)
    make_study_data(str(tmp_path / 'other'), SMALL, seed=4, show_progress=False)
    files = [osp.join(split, name) for split in ('train', 'val')
             for name, _ in read_list(study_root, split)]
    files += [osp.join('meta', f'{n}.txt') for n in ('train', 'val', 'classes')]
    _, mismatch, errors = filecmp.cmpfiles(study_root, tmp_path / 'same', files, shallow=False)
    assert not mismatch and not errors
    _, mismatch, _ = filecmp.cmpfiles(study_root, tmp_path / 'other', files, shallow=False)
    assert len(mismatch) == 25  # every image differs, the lists do not


@pytest.mark.parametrize('key,value', [('num_classes', 49), ('num_classes', 1),
                                       ('val_per_class', 0), ('max_distractors', 0)])
def test_study_data_rejects_bad_sizes_before_writing(tmp_path, key, value):
    sizes = StudySizes(**{**vars(SMALL), key: value})
    with pytest.raises(ValueError, match=key):
        make_study_data(str(tmp_path / 'bad'), sizes, show_progress=False)
    assert not osp.exists(tmp_path / 'bad')


def test_the_study_has_every_method_on_both_backbones():
    models = study_models(osp.join(REPO_ROOT, 'configs', 'study'))
    assert [m.name for m in models] == [
        f'{method}_{backbone}' for backbone in ('r18', 'vit-tiny-6l')
        for method in ('a2mim', 'simmim', 'symmim', 'supervised', 'random')]
    for model in models:
        assert osp.isfile(model.eval_config)
        assert model.config in STUDY_CONFIGS or model.config is None
    assert len(STUDY_CONFIGS) == 8


def test_finished_stages_are_skipped(tmp_path):
    """With every run and evaluation recorded, pretrain and evaluate start nothing (the data
    root does not even exist) and the report reads the records."""
    models = study_models(osp.join(REPO_ROOT, 'configs', 'study'), ['r18'])
    study = Study(StudySettings(out_dir=str(tmp_path), data_root=str(tmp_path / 'none')),
                  models)
    for i, model in enumerate(models):
        if model.config:
            write_json(study.path('runs', f'{model.name}.json'),
                       dict(config=model.config, checkpoint='x.pth', iterations=100 + i,
                            wall_s=60.0, cpu_s=50.0))
        write_json(study.path('eval', f'{model.name}.json'),
                   dict(knn=dict(top1=10.0 + i, top5=30.0), linear=dict(top1=20.5 + i, top5=40.0)))
    study.pretrain()
    study.evaluate()
    table = study.report()
    assert '| ResNet-18 | SymMIM | 12.0 | 22.5 | 30.0 | 40.0 | 102 | 60 | 50 |' in table
    assert '| ResNet-18 | random init | 14.0 | 24.5 | 30.0 | 40.0 | – | – | – |' in table


@pytest.mark.parametrize('config', STUDY_CONFIGS, ids=osp.basename)
def test_study_config_builds_and_trains_one_step(config, study_root):
    """Each study config: model built, mask grid consistent with the model, and one loss
    on two real images of its pipeline is finite."""
    cfg = Config.fromfile(config)
    model = MODELS.build(cfg.model)
    check_mim_model_against_data(model, cfg)
    dataset_cfg = dict(cfg.train_dataloader.dataset, data_root=study_root)
    dataset = DATASETS.build(dataset_cfg)
    batch = default_collate([dataset[0], dataset[1]])
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    assert cfg.train_cfg.type == 'IterBasedTrainLoop' and cfg.train_cfg.max_iters >= 100
    assert cfg.param_scheduler[-1]['end'] == cfg.train_cfg.max_iters
