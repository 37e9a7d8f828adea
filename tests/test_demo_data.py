"""The generated datasets load through the real dataset classes and training pipelines."""
import filecmp
import json
import os
import os.path as osp

import numpy as np
import torch
from mmengine.registry import init_default_scope

from mim_agnostic.datasets.demo_data import (ADE_FIRST_OBJECT, ADE_FLOOR, ADE_SKY, DemoSizes,
                                             class_name, make_demo_data)
from conftest import TEST_SIZES


def test_generation_is_deterministic_from_the_seed(tmp_path):
    sizes = DemoSizes(num_classes=2, imagenet_train_per_class=2, imagenet_val_per_class=1,
                      imagenet_size=32, coco_train=2, coco_val=1, coco_size=(32, 48),
                      ade_train=2, ade_val=1, ade_size=(32, 48))
    for name in ('a', 'b', 'c'):
        make_demo_data(str(tmp_path / name), sizes, seed=7 if name != 'c' else 8,
                       show_progress=False)
    files = sorted(osp.relpath(osp.join(d, f), tmp_path / 'a')
                   for d, _, fs in os.walk(tmp_path / 'a') for f in fs)
    # imagenet: 6 images + 3 list files; coco: 3 images + 2 json; ade20k: 3 images + 3 maps
    assert len(files) == 9 + 5 + 6
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / 'a', tmp_path / 'b', files, shallow=False)
    assert not mismatch and not errors
    _, mismatch, _ = filecmp.cmpfiles(tmp_path / 'a', tmp_path / 'c', files, shallow=False)
    assert mismatch  # another seed, other pictures


def test_imagenet_loads_through_mmpretrain_with_a_training_pipeline(demo_root):
    from mmpretrain.datasets import CustomDataset, ImageNet
    init_default_scope('mmpretrain')
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='RandomResizedCrop', scale=96),
                dict(type='RandomFlip', prob=0.5),
                dict(type='PackInputs')]
    root = osp.join(demo_root, 'imagenet')
    train = ImageNet(data_root=root, split='train', pipeline=pipeline)
    assert len(train) == TEST_SIZES.num_classes * TEST_SIZES.imagenet_train_per_class
    sample = train[0]
    assert sample['inputs'].shape == (3, 96, 96) and sample['inputs'].dtype == torch.uint8
    assert sample['data_samples'].gt_label.item() == 0
    val = CustomDataset(data_root=root, data_prefix='val', pipeline=pipeline)
    assert len(val) == TEST_SIZES.num_classes * TEST_SIZES.imagenet_val_per_class
    assert val.CLASSES == tuple(f'n{i:08d}' for i in range(TEST_SIZES.num_classes))
    with open(osp.join(root, 'meta', 'classes.txt')) as f:
        assert f.read().split() == [class_name(i) for i in range(TEST_SIZES.num_classes)]


def test_coco_loads_through_mmdet_with_a_training_pipeline(demo_root):
    from mmdet.datasets import CocoDataset
    from mmdet.utils import register_all_modules
    from pycocotools.coco import COCO
    register_all_modules(init_default_scope=True)
    root = osp.join(demo_root, 'coco')
    ann_file = 'annotations/instances_train2017.json'
    with open(osp.join(root, ann_file)) as f:
        categories = [c['name'] for c in json.load(f)['categories']]
    assert len(categories) >= 3
    dataset = CocoDataset(
        data_root=root, ann_file=ann_file, data_prefix=dict(img='train2017/'),
        metainfo=dict(classes=tuple(categories)),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
                  dict(type='Resize', scale=(256, 192), keep_ratio=True),
                  dict(type='RandomFlip', prob=0.5),
                  dict(type='PackDetInputs')])
    assert len(dataset) == TEST_SIZES.coco_train
    sample = dataset[0]
    instances = sample['data_samples'].gt_instances
    assert len(instances) >= 1 and instances.masks.masks.shape[0] == len(instances)
    assert instances.bboxes.tensor.shape == (len(instances), 4)
    # polygons, boxes and areas agree (pycocotools rasterises the polygon)
    coco = COCO(osp.join(root, ann_file))
    for ann in coco.loadAnns(coco.getAnnIds()):
        mask = coco.annToMask(ann)
        assert ann['iscrowd'] == 0
        assert abs(mask.sum() - ann['area']) <= 0.1 * ann['area'] + 20
        ys, xs = np.nonzero(mask)
        x, y, w, h = ann['bbox']
        assert abs(xs.min() - x) <= 2 and abs(ys.max() - (y + h - 1)) <= 2


def test_ade20k_loads_through_mmseg_with_a_training_pipeline(demo_root):
    from mmseg.datasets import ADE20KDataset
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    root = osp.join(demo_root, 'ade20k')
    dataset = ADE20KDataset(
        data_root=root,
        data_prefix=dict(img_path='images/training', seg_map_path='annotations/training'),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations', reduce_zero_label=True),
                  dict(type='RandomResize', scale=(256, 96), ratio_range=(0.5, 2.0),
                       keep_ratio=True),
                  dict(type='RandomCrop', crop_size=(64, 64), cat_max_ratio=0.75),
                  dict(type='RandomFlip', prob=0.5),
                  dict(type='PhotoMetricDistortion'),
                  dict(type='PackSegInputs')])
    assert len(dataset) == TEST_SIZES.ade_train
    labels = torch.cat([dataset[i]['data_samples'].gt_sem_seg.data.flatten()
                        for i in range(len(dataset))]).unique().tolist()
    # reduce_zero_label: 0 (outlines) -> 255, k -> k - 1
    assert set(labels) <= {255} | set(range(150))
    assert ADE_SKY - 1 in labels and ADE_FLOOR - 1 in labels
    assert any(label >= ADE_FIRST_OBJECT - 1 for label in labels if label != 255)
