"""Pretraining on a folder of unlabelled images: the recursive scan, list files, the cached
list and its invalidation, every pretraining config switched by train_data_root /
--data-root, odd images, decompression bombs refused from their header, and a real run."""
import glob
import logging
import os
import os.path as osp
import shutil
import struct
import sys
import time
import zlib

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.logging import MMLogger

import mim_agnostic.datasets.image_folder as image_folder
from mim_agnostic.datasets.image_folder import UnlabeledImageFolder, find_images
from mim_agnostic.datasets.transforms import CheckedLoadImageFromFile
from mim_agnostic.registry import DATASETS
from mim_agnostic.utils.config_check import check_image_dataset
from mim_agnostic.utils.runtime import load_config
from conftest import REPO_ROOT, run, scalars

DEMO = osp.join(REPO_ROOT, 'configs', 'demo', 'a2mim_r50_demo.py')
PRETRAINING_CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', '*.py')) +
                             glob.glob(osp.join(REPO_ROOT, 'configs', 'demo', '*.py')))
OLD_NS = 1_000_000_000 * 1_600_000_000  # 2020: folder mtimes well before any change


def write_image(path, height=48, width=64, channels=3, dtype=np.uint8, seed=0):
    os.makedirs(osp.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    top = 65536 if dtype == np.uint16 else 256
    shape = (height, width) if channels == 1 else (height, width, channels)
    assert cv2.imwrite(str(path), rng.integers(0, top, shape).astype(dtype)), path


def write_blank_png(path, width, height):
    """A grayscale PNG of zeros, compressed row by row: never holds the pixels in memory.
    (zlib level 1: 30000 x 30000 in ~1 s, 3.9 MB; level 9 gives the issue's ~0.9 MB.)"""
    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data)))
    compressor = zlib.compressobj(1)
    row = bytes(width + 1)  # filter type 0, then the pixels
    idat = b''.join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)  # 8 bit grayscale
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', idat) +
                chunk(b'IEND', b''))


def age_folders(root):
    """Set every folder's mtime to 2020, so that any later change is seen even on
    filesystems whose timestamps tick coarsely."""
    for folder, _, _ in os.walk(root):
        os.utime(folder, ns=(OLD_NS, OLD_NS))


IMAGES = ['a.JPG', 'b.jpeg', 'c.Png', 'nested/d.bmp', 'nested/deeper/e.WebP', 'nested/f.TIF',
          'nested/g.tiff', 'x/h.JpEg']
NOT_IMAGES = ['notes.txt', 'meta.json', 'a.jpg.bak', '._a.jpg', '.thumbs/i.jpg',
              'nested/.hidden.png']


@pytest.fixture
def tree(tmp_path):
    """Images with mixed-case extensions at three depths, among files that are not."""
    root = tmp_path / 'photos'
    for index, name in enumerate(IMAGES):
        write_image(str(root / name), seed=index)
    for name in NOT_IMAGES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b'not an image')
    age_folders(root)
    return root


def test_scan_finds_images_recursively_in_any_letter_case_and_nothing_else(tree, tmp_path):
    assert find_images(str(tree), cache_dir=None) == sorted(IMAGES)
    dataset = UnlabeledImageFolder(data_root=str(tree), cache_dir=None)
    assert [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))] == \
        [osp.join(str(tree), name) for name in sorted(IMAGES)]
    assert 'gt_label' not in dataset.get_data_info(0)


def test_samples_go_through_the_pretraining_pipeline_without_labels(tree):
    pipeline = Config.fromfile(DEMO).train_dataloader.dataset.pipeline
    dataset = DATASETS.build(dict(type='UnlabeledImageFolder', data_root=str(tree),
                                  cache_dir=None, pipeline=pipeline))
    for index in range(len(dataset)):
        sample = dataset[index]
        assert sample['inputs'].shape == (3, 128, 128)
        assert sample['data_samples'].mask.shape == (8, 8)
        assert 'gt_label' not in sample['data_samples']


def test_a_list_file_selects_images_in_its_order(tree):
    (tree / 'subset.txt').write_text('nested/deeper/e.WebP\n\n  a.JPG  \nnotes.txt\n')
    assert find_images(str(tree), 'subset.txt', cache_dir=None) == \
        ['nested/deeper/e.WebP', 'a.JPG', 'notes.txt']  # listed files are taken as given
    dataset = UnlabeledImageFolder(data_root=str(tree), ann_file='subset.txt', cache_dir=None)
    assert dataset.get_data_info(1)['img_path'] == osp.join(str(tree), 'a.JPG')


def test_a_list_entry_naming_no_file_is_an_error_with_file_line_and_path(tree):
    (tree / 'subset.txt').write_text('a.JPG\n\nnested/gone.jpg\nb.jpeg\n')
    list_file = osp.join(str(tree), 'subset.txt')
    missing = osp.join(str(tree), 'nested/gone.jpg')
    with pytest.raises(FileNotFoundError,
                       match=f'^{list_file}, line 3: {missing}: no such file$'):
        find_images(str(tree), 'subset.txt', cache_dir=None)
    with pytest.raises(FileNotFoundError, match=f'{tree}/absent.txt: no such list file'):
        UnlabeledImageFolder(data_root=str(tree), ann_file='absent.txt', cache_dir=None)


def test_a_folder_without_images_names_the_folder_and_the_extensions(tmp_path):
    root = tmp_path / 'empty'
    (root / 'sub').mkdir(parents=True)
    (root / 'sub' / 'readme.txt').write_text('no images here')
    with pytest.raises(ValueError, match=rf'^{root}: no images found \(searched recursively '
                                         r'for \.jpg, \.jpeg, \.png, .*\.webp in any letter'):
        UnlabeledImageFolder(data_root=str(root), cache_dir=None)
    with pytest.raises(FileNotFoundError, match=f'{tmp_path}/nowhere: no such folder'):
        find_images(str(tmp_path / 'nowhere'), cache_dir=None)


def test_the_list_is_cached_and_rebuilt_when_a_folder_changes(tree, tmp_path, monkeypatch):
    cache_dir = tmp_path / 'cache'
    assert find_images(str(tree), cache_dir=str(cache_dir)) == sorted(IMAGES)
    cached = list(cache_dir.iterdir())
    assert len(cached) == 1 and cached[0].name.startswith('image_list_')
    # reused: a second listing does not scan (the scan is made to fail to show it)
    with monkeypatch.context() as patch:
        patch.setattr(image_folder, 'scan_images', lambda *args: pytest.fail('rescanned'))
        assert find_images(str(tree), cache_dir=str(cache_dir)) == sorted(IMAGES)
        # another name of the same folder uses the same cache
        os.symlink(tree, tmp_path / 'link')
        assert find_images(str(tmp_path / 'link'), cache_dir=str(cache_dir)) == \
            sorted(IMAGES)
    # a file added two levels down, a new folder, a file removed: each one seen
    expected = sorted(IMAGES)
    for change, update in [
            (lambda: write_image(str(tree / 'nested/deeper/new.jpg')),
             lambda images: images + ['nested/deeper/new.jpg']),
            (lambda: write_image(str(tree / 'y/z/other.png')),
             lambda images: images + ['y/z/other.png']),
            (lambda: os.remove(tree / 'nested/f.TIF'),
             lambda images: [i for i in images if i != 'nested/f.TIF'])]:
        change()
        expected = sorted(update(expected))
        assert find_images(str(tree), cache_dir=str(cache_dir)) == expected
        age_folders(tree)
    assert len(list(cache_dir.iterdir())) == 1  # rewritten in place
    # other extensions are another list
    assert find_images(str(tree), extensions=('.png', ), cache_dir=str(cache_dir)) == \
        ['c.Png', 'y/z/other.png']


def test_a_cached_list_file_is_rebuilt_when_the_list_or_an_image_changes(tree, tmp_path):
    cache_dir = str(tmp_path / 'cache')
    list_file = tree / 'subset.txt'
    list_file.write_text('a.JPG\nnested/d.bmp\n')
    age_folders(tree)
    assert find_images(str(tree), 'subset.txt', cache_dir=cache_dir) == ['a.JPG', 'nested/d.bmp']
    list_file.write_text('a.JPG\nb.jpeg\nnested/d.bmp\n')
    os.utime(list_file, ns=(OLD_NS + 10**9, OLD_NS + 10**9))
    assert find_images(str(tree), 'subset.txt', cache_dir=cache_dir) == \
        ['a.JPG', 'b.jpeg', 'nested/d.bmp']
    os.remove(tree / 'nested/d.bmp')  # the list still names it: checked again
    with pytest.raises(FileNotFoundError, match='subset.txt, line 3: .*nested/d.bmp'):
        find_images(str(tree), 'subset.txt', cache_dir=cache_dir)


def test_an_imagenet_folder_works_with_its_labels_unused(demo_root, tmp_path):
    train = osp.join(demo_root, 'imagenet', 'train')
    expected = sorted(osp.relpath(p, train) for p in glob.glob(osp.join(train, '*', '*')))
    assert len(expected) == 32  # 4 classes x 8 (tests/conftest.py TEST_SIZES)
    dataset = UnlabeledImageFolder(data_root=train, cache_dir=str(tmp_path))
    assert len(dataset) == 32
    assert [osp.relpath(dataset.get_data_info(i)['img_path'], train) for i in range(32)] == \
        expected
    # the root of the tree: train/ and val/ both listed, with a warning saying so
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        images = find_images(osp.join(demo_root, 'imagenet'), cache_dir=None)
    finally:
        logger.removeHandler(handler)
    assert len(images) == 32 + 8  # 4 classes x (8 train + 2 val)
    assert any('holds train/ and val/' in r.getMessage() and r.levelno == logging.WARNING
               for r in records)


@pytest.mark.parametrize('config', PRETRAINING_CONFIGS, ids=osp.basename)
def test_data_root_switches_every_pretraining_config_keeping_its_pipeline(config, tmp_path):
    original = Config.fromfile(config).train_dataloader
    cfg = load_config(config, data_root=str(tmp_path))
    assert cfg.train_data_root == str(tmp_path)
    assert dict(cfg.train_dataloader.dataset) == dict(
        type='UnlabeledImageFolder', data_root=str(tmp_path),
        pipeline=original.dataset.pipeline)
    assert {k: v for k, v in cfg.train_dataloader.items() if k != 'dataset'} == \
        {k: v for k, v in original.items() if k != 'dataset'}
    # the config key itself, e.g. from --cfg-options, does the same
    by_key = load_config(config, cfg_options={'train_data_root': str(tmp_path)})
    assert by_key.train_dataloader.dataset == cfg.train_dataloader.dataset


def test_options_for_the_folder_dataset_combine_with_data_root(tmp_path):
    cfg = load_config(DEMO, data_root=str(tmp_path), cfg_options={
        'train_dataloader.dataset.cache_dir': None,
        'train_dataloader.dataset.ann_file': 'list.txt'})
    dataset = cfg.train_dataloader.dataset
    assert (dataset.type, dataset.data_root, dataset.cache_dir, dataset.ann_file) == \
        ('UnlabeledImageFolder', str(tmp_path), None, 'list.txt')


def test_data_root_refuses_a_config_that_is_not_pretraining(tmp_path):
    config = osp.join(REPO_ROOT, 'configs/demo/downstream/resnet50_a2mim-ft_demo.py')
    with pytest.raises(ValueError, match='--data-root: .*resnet50_a2mim-ft_demo.py is not a '
                                       'pretraining config'):
        load_config(config, data_root=str(tmp_path))


def test_the_issue_command_tells_the_way_to_use_a_folder(tmp_path):
    # the issue: --cfg-options train_dataloader.dataset.type=CustomDataset
    # train_dataloader.dataset.data_root=PHOTOS train_dataloader.dataset.with_label=False
    cfg = load_config(DEMO, cfg_options={'train_dataloader.dataset.type': 'CustomDataset',
                                         'train_dataloader.dataset.data_root': str(tmp_path),
                                         'train_dataloader.dataset.with_label': False})
    with pytest.raises(TypeError, match=r"^train_dataloader.dataset: CustomDataset takes no "
                                        r"split='train' \(left over .*\)\. To pretrain on a "
                                        r'folder of images: tools/train.py CONFIG --data-root'):
        check_image_dataset(cfg)


def test_the_check_before_training_names_the_key_and_builds_the_cache(tree, tmp_path):
    cfg = load_config(DEMO, data_root=str(tree),
                      cfg_options={'train_dataloader.dataset.cache_dir': str(tmp_path / 'c')})
    check_image_dataset(cfg)
    assert len(list((tmp_path / 'c').iterdir())) == 1
    empty = tmp_path / 'empty'
    empty.mkdir()
    cfg = load_config(DEMO, data_root=str(empty))
    with pytest.raises(ValueError, match=rf'^train_data_root \(--data-root\): {empty}: no '
                                         'images found'):
        check_image_dataset(cfg)


# ------------------------------------------------------------------ decompression bombs
@pytest.fixture(scope='module')
def bomb(tmp_path_factory):
    path = tmp_path_factory.mktemp('bomb') / 'bomb.png'
    write_blank_png(str(path), 30000, 30000)
    return path


def test_a_decompression_bomb_is_refused_from_its_header(bomb):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=rf'^{bomb}: 30000 x 30000 = 900,000,000 pixels, over '
                                         r'max_pixels=268,435,456 \(a decompression bomb\?\); '
                                         r'not decoded\. To load such images raise max_pixels'
                                         r'.*skip_unreadable=True'):
        CheckedLoadImageFromFile()(dict(img_path=str(bomb)))
    # decoding it takes ~30 s and ~9 GB; reading the header takes milliseconds
    assert time.perf_counter() - start < 1.0


def test_skip_unreadable_skips_a_bomb_and_the_dataset_fetches_another(bomb, tmp_path):
    loader = CheckedLoadImageFromFile(skip_unreadable=True)
    assert loader(dict(img_path=str(bomb))) is None and loader.num_skipped == 1
    root = tmp_path / 'mixed'
    root.mkdir()
    shutil.copy(bomb, root / 'bomb.png')
    write_image(str(root / 'photo.jpg'))
    pipeline = Config.fromfile(DEMO).train_dataloader.dataset.pipeline
    pipeline[0]['skip_unreadable'] = True
    dataset = DATASETS.build(dict(type='UnlabeledImageFolder', data_root=str(root),
                                  cache_dir=None, pipeline=pipeline))
    assert dataset.get_data_info(0)['img_path'].endswith('bomb.png')
    assert dataset[0]['data_samples'].img_path.endswith('photo.jpg')
    assert dataset.pipeline.transforms[0].num_skipped >= 1


def test_the_pixel_limit_is_inclusive_and_configurable(tmp_path):
    path = str(tmp_path / 'wide.png')
    write_image(path, height=100, width=200)
    assert CheckedLoadImageFromFile(max_pixels=20000)(dict(img_path=path))['img'].shape == \
        (100, 200, 3)
    with pytest.raises(ValueError, match=r'200 x 100 = 20,000 pixels, over max_pixels=19,999'):
        CheckedLoadImageFromFile(max_pixels=19999)(dict(img_path=path))
    assert CheckedLoadImageFromFile(max_pixels=None)(dict(img_path=path))['img'].shape == \
        (100, 200, 3)


# ------------------------------------------------------------------ end to end
@pytest.fixture
def flat_photos(demo_root, tmp_path):
    """A flat folder: 11 demo photos under mixed-case names, a grayscale, an RGBA, a 16-bit
    and a tiny image, an image over the (lowered) pixel limit and a text file."""
    root = tmp_path / 'photos'
    root.mkdir()
    sources = sorted(glob.glob(osp.join(demo_root, 'imagenet', 'train', '*', '*')))[::2][:11]
    for index, source in enumerate(sources):
        shutil.copy(source, root / f'IMG_{index:04d}.{"JPG" if index % 2 else "jpeg"}')
    photo = cv2.imread(sources[0])
    cv2.imwrite(str(root / 'gray.png'), photo[..., 0])
    cv2.imwrite(str(root / 'rgba.PNG'), np.dstack([photo, photo[..., :1]]))
    cv2.imwrite(str(root / 'deep16.tif'), photo.astype(np.uint16) * 257)
    cv2.imwrite(str(root / 'tiny.jpg'), photo[:20, :30])
    write_blank_png(str(root / 'huge.png'), 1200, 1000)  # over max_pixels=1,000,000 below
    (root / 'README.txt').write_text('holiday photos')
    return root


def test_train_py_with_data_root_pretrains_on_a_flat_folder(flat_photos, tmp_path):
    work_dir = str(tmp_path / 'work')
    log = run([sys.executable, 'tools/train.py', DEMO, '--data-root', str(flat_photos),
               '--work-dir', work_dir, '--cfg-options',
               f'train_dataloader.dataset.cache_dir={tmp_path / "cache"}',
               'train_dataloader.dataset.pipeline.0.skip_unreadable=True',
               'train_dataloader.dataset.pipeline.0.max_pixels=1000000',
               'model.backbone.depth=18', 'model.neck.in_channels=512',
               'train_dataloader.batch_size=8', 'train_cfg.max_epochs=1',
               'default_hooks.logger.interval=1', 'custom_hooks=[]'])
    assert f'16 images under {flat_photos}' in log  # 11 + 4 odd ones + the huge one
    skipped = [line for line in log.splitlines() if 'skipped unreadable image' in line]
    assert skipped and all(f'{flat_photos}/huge.png: 1200 x 1000 = 1,200,000 pixels, over '
                           'max_pixels=1,000,000' in line for line in skipped)  # only it
    records = scalars(work_dir)
    assert [r['step'] for r in records] == [1, 2]  # 16 images, batch 8
    assert all(np.isfinite(r['loss']) for r in records)
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))

