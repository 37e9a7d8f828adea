"""Pretrain a few iterations -> extract the backbone -> Mask R-CNN, UperNet and ImageNet-style
fine-tuning train on the demo data and tools/test.py prints their real metrics."""
import os.path as osp
import re
import sys

import pytest

from conftest import run


@pytest.fixture(scope='module')
def extracted(tmp_path_factory, demo_root):
    work_dir = str(tmp_path_factory.mktemp('pretrain'))
    run([sys.executable, 'tools/train.py', 'configs/demo/a2mim_r50_demo.py', '--work-dir',
         work_dir, '--cfg-options', f'train_dataloader.dataset.data_root={demo_root}/imagenet',
         'train_dataloader.batch_size=8', 'train_cfg.max_epochs=1', 'custom_hooks=[]'])
    out = osp.join(work_dir, 'r50_a2mim.pth')
    log = run([sys.executable, 'tools/extract_backbone.py', osp.join(work_dir, 'epoch_1.pth'),
               out, '--to', 'mmdet'])
    assert '0 missing, 0 unexpected' in log
    return out


def train_then_test(config, work_dir, options):
    run([sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
         '--cfg-options', *options])
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    return run([sys.executable, 'tools/test.py', config, checkpoint, '--work-dir', work_dir,
                '--cfg-options', *options])


def metric(log, name):
    match = re.search(rf'{re.escape(name)}: (-?[0-9.]+)', log)
    assert match, f'{name} not printed'
    return float(match.group(1))


def test_mask_rcnn_on_demo_coco_prints_bbox_and_segm_ap(extracted, demo_root, tmp_path):
    coco = f'{demo_root}/coco/'
    log = train_then_test('configs/demo/downstream/mask-rcnn_r50-a2mim_fpn_demo.py',
                          str(tmp_path), [
                              f'model.backbone.init_cfg.checkpoint={extracted}',
                              f'train_dataloader.dataset.data_root={coco}',
                              f'val_dataloader.dataset.data_root={coco}',
                              f'test_dataloader.dataset.data_root={coco}',
                              f'val_evaluator.ann_file={coco}annotations/instances_val2017.json',
                              f'test_evaluator.ann_file={coco}annotations/instances_val2017.json',
                              'train_cfg.max_epochs=1', 'train_cfg.val_interval=1'])
    for name in ('coco/bbox_mAP', 'coco/segm_mAP'):
        assert 0.0 <= metric(log, name) <= 1.0


def test_upernet_on_demo_ade20k_prints_miou(extracted, demo_root, tmp_path):
    ade = f'{demo_root}/ade20k'
    log = train_then_test('configs/demo/downstream/upernet_r50-a2mim_demo.py', str(tmp_path), [
        f'model.backbone.init_cfg.checkpoint={extracted}',
        f'train_dataloader.dataset.data_root={ade}', f'val_dataloader.dataset.data_root={ade}',
        f'test_dataloader.dataset.data_root={ade}', 'train_cfg.max_iters=6',
        'train_cfg.val_interval=6', 'default_hooks.checkpoint.interval=6'])
    assert 0.0 < metric(log, 'mIoU') <= 100.0


def test_imagenet_style_fine_tune_prints_top1(extracted, demo_root, tmp_path):
    imagenet = f'{demo_root}/imagenet'
    log = train_then_test('configs/demo/downstream/resnet50_a2mim-ft_demo.py', str(tmp_path), [
        f'model.backbone.init_cfg.checkpoint={extracted}',
        f'train_dataloader.dataset.data_root={imagenet}',
        f'val_dataloader.dataset.data_root={imagenet}',
        f'test_dataloader.dataset.data_root={imagenet}', 'num_classes=4',
        'model.head.num_classes=4', 'data_preprocessor.num_classes=4',
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=1'])
    assert 0.0 <= metric(log, 'accuracy/top1') <= 100.0
