"""Bad data: every case either trains (odd but valid images) or stops with a message that
names the file or config key and the problem; unreadable images can be skipped and counted."""
import json
import logging
import os
import os.path as osp
import shutil
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

from mim_agnostic.registry import DATASETS
from conftest import REPO_ROOT, run

DEMO = osp.join(REPO_ROOT, 'configs', 'demo', 'a2mim_r50_demo.py')


def demo_pipeline():
    return Compose(Config.fromfile(DEMO).train_dataloader.dataset.pipeline)


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp('images')
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (160, 160, 3), dtype=np.uint8)
    cv2.imwrite(str(root / 'ok.jpg'), rgb)
    cv2.imwrite(str(root / 'ok.png'), rgb)
    cv2.imwrite(str(root / 'gray.jpg'), rgb[..., 0])
    cv2.imwrite(str(root / 'rgba.png'), np.dstack([rgb, rgb[..., :1]]))
    cv2.imwrite(str(root / 'deep16.png'), rgb.astype(np.uint16) * 257)
    cv2.imwrite(str(root / 'tiny.jpg'), rgb[:20, :30])
    for name in ('ok.jpg', 'ok.png'):
        data = (root / name).read_bytes()
        (root / f'truncated{osp.splitext(name)[1]}').write_bytes(data[:len(data) // 2])
    (root / 'garbage.jpg').write_bytes(rng.integers(0, 256, 800, dtype=np.uint8).tobytes())
    (root / 'empty.jpg').write_bytes(b'')
    return root


@pytest.mark.parametrize('name', ['ok.jpg', 'gray.jpg', 'rgba.png', 'deep16.png', 'tiny.jpg'])
def test_odd_but_valid_images_become_3_channel_8_bit_crops(images, name):
    packed = demo_pipeline()(dict(img_path=str(images / name)))
    assert packed['inputs'].shape == (3, 128, 128) and str(packed['inputs'].dtype) == \
        'torch.uint8'
    assert packed['data_samples'].mask.shape == (8, 8)


@pytest.mark.parametrize('name,error,problem', [
    ('truncated.jpg', ValueError, 'cannot be decoded as an image'),
    ('truncated.png', ValueError, 'cannot be decoded as an image'),
    ('garbage.jpg', ValueError, 'cannot be decoded as an image'),
    ('empty.jpg', ValueError, r'empty file \(0 bytes\)'),
    ('missing.jpg', FileNotFoundError, 'no such file'),
])
def test_unreadable_images_stop_with_the_file_and_the_problem(images, name, error, problem):
    with pytest.raises(error, match=rf'{name}: {problem}.*skip_unreadable=True'):
        demo_pipeline()(dict(img_path=str(images / name)))


def test_skip_unreadable_drops_them_and_counts_in_the_log(images, tmp_path):
    folder = tmp_path / 'data' / 'class_a'
    folder.mkdir(parents=True)
    for name in ('ok.jpg', 'truncated.jpg', 'gray.jpg', 'empty.jpg'):
        shutil.copy(images / name, folder / name)
    pipeline = Config.fromfile(DEMO).train_dataloader.dataset.pipeline
    pipeline[0]['skip_unreadable'] = True
    dataset = DATASETS.build(dict(type='CustomDataset', data_root=str(tmp_path / 'data'),
                                  pipeline=pipeline))
    assert len(dataset) == 4
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        loaded = [dataset[i]['data_samples'].img_path for i in range(4)]
    finally:
        logger.removeHandler(handler)
    assert {osp.basename(p) for p in loaded} <= {'ok.jpg', 'gray.jpg'}  # refetched
    loader = dataset.pipeline.transforms[0]
    assert loader.num_skipped >= 2
    messages = [record.getMessage() for record in records]
    assert any('skipped unreadable image' in m and 'empty file' in m for m in messages)
    assert f'{loader.num_skipped} skipped so far in this data worker' in messages[-1]


@pytest.mark.parametrize('make,message', [
    (lambda root: None, 'no such folder'),
    (lambda root: os.makedirs(osp.join(root, 'train', 'n01')), 'the folder holds no images'),
])
def test_an_empty_or_missing_dataset_folder_is_named_before_training(tmp_path, make,
                                                                     message):
    root = str(tmp_path / 'imagenet')
    make(root)
    output = run([sys.executable, 'tools/train.py', DEMO, '--work-dir', str(tmp_path / 'w'),
                  '--cfg-options', f'train_dataloader.dataset.data_root={root}'],
                 expect_failure=True)
    assert f"train_dataloader.dataset.data_root='{root}': {message}" in output


def test_coco_annotation_of_a_missing_image_names_the_file(demo_root, tmp_path):
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    root = tmp_path / 'coco'
    shutil.copytree(osp.join(demo_root, 'coco'), root)
    ann_file = root / 'annotations' / 'instances_train2017.json'
    coco = json.loads(ann_file.read_text())
    coco['images'][0]['file_name'] = 'gone.jpg'
    ann_file.write_text(json.dumps(coco))
    from mmdet.registry import DATASETS as DET_DATASETS
    dataset = DET_DATASETS.build(dict(
        type='CocoDataset', data_root=str(root),
        ann_file='annotations/instances_train2017.json', data_prefix=dict(img='train2017/'),
        metainfo=dict(classes=tuple(c['name'] for c in coco['categories'])),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
                  dict(type='PackDetInputs')]))
    index = next(i for i in range(len(dataset))
                 if dataset.get_data_info(i)['img_path'].endswith('gone.jpg'))
    with pytest.raises(FileNotFoundError, match='train2017/gone.jpg'):
        dataset[index]
    init_default_scope('mim_agnostic')


def test_ade20k_label_out_of_range_names_the_map(demo_root, tmp_path):
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    root = tmp_path / 'ade20k'
    shutil.copytree(osp.join(demo_root, 'ade20k'), root)
    maps = sorted((root / 'annotations' / 'training').iterdir())
    label = cv2.imread(str(maps[0]), cv2.IMREAD_UNCHANGED)
    label[0, 0] = 200  # ADE20K has 150 classes
    cv2.imwrite(str(maps[0]), label)
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/demo/downstream/upernet_r50-a2mim_demo.py'))
    from mmseg.registry import DATASETS as SEG_DATASETS
    dataset = SEG_DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=str(root)))
    index = next(i for i in range(len(dataset))
                 if dataset.get_data_info(i)['seg_map_path'] == str(maps[0]))
    with pytest.raises(ValueError, match=rf'{maps[0].name}: label values \[199\] are outside '
                                         r'0..149 \(ignore index 255\)'):
        dataset[index]
    init_default_scope('mim_agnostic')
