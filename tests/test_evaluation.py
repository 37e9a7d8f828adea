"""Evaluation: kNN and linear probe against independent numpy/scipy computations and
hand-made answers, the feature cache, tools/evaluate.py end to end, the exported classifier,
the online kNN hook in a demo run, and the bad-input errors."""
import glob
import json
import logging
import os
import os.path as osp
import random
import shutil
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from scipy.optimize import minimize

from conftest import REPO_ROOT, run
from mim_agnostic.engine.hooks.online_knn_hook import (evenly_spaced, interleave,
                                                       preserved_rng)
from mim_agnostic.evaluation import (EvalSettings, FeatureExtractor, SplitFiles,
                                     build_eval_dataloader, evaluate_checkpoint, fit_linear,
                                     knn_classify, knn_scores, linear_probe, save_classifier,
                                     scan_split)
from mim_agnostic.evaluation.knn import nearest_neighbours
from mim_agnostic.evaluation.linear_probe import stratified_holdout
from mim_agnostic.models.backbones import MIMResNet
from mim_agnostic.models.necks import FeaturePool
from mim_agnostic.registry import MODELS
from mim_agnostic.utils.safe_load import UnsafeCheckpointError, load_checkpoint_file

DEMO = osp.join(REPO_ROOT, 'configs', 'demo', 'a2mim_r50_demo.py')
KNN_DEMO = osp.join(REPO_ROOT, 'configs', 'demo', 'a2mim_r18_knn_demo.py')
R18 = dict(model=dict(backbone=dict(depth=18), neck=dict(in_channels=512)))
R18_OPTIONS = ['model.backbone.depth=18', 'model.neck.in_channels=512']


def r18_config() -> Config:
    cfg = Config.fromfile(DEMO)
    cfg.merge_from_dict(R18)
    return cfg


def fixed_features(seed=0, train=60, val=20, dims=8, classes=4):
    """Features with class structure plus noise (no exact ties)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, dims))
    train_y = np.arange(train) % classes
    val_y = rng.integers(0, classes, val)
    train_x = centres[train_y] + 1.2 * rng.normal(size=(train, dims))
    val_x = centres[val_y] + 1.2 * rng.normal(size=(val, dims))
    return [torch.tensor(a) for a in (train_x, train_y, val_x, val_y)]


# ------------------------------------------------------------------------------- kNN
def numpy_knn_scores(train_x, train_y, val_x, classes, k, temperature):
    train = train_x / np.linalg.norm(train_x, axis=1, keepdims=True)
    val = val_x / np.linalg.norm(val_x, axis=1, keepdims=True)
    scores = np.zeros((len(val), classes))
    for row, query in enumerate(val):
        sims = train @ query
        for index in np.argsort(-sims)[:k]:
            scores[row, train_y[index]] += np.exp(sims[index] / temperature)
    return scores


def test_knn_equals_an_independent_numpy_computation():
    train_x, train_y, val_x, val_y = fixed_features()
    expected = numpy_knn_scores(train_x.numpy(), train_y.numpy(), val_x.numpy(), 4, 7, 0.1)
    scores = knn_scores(train_x, train_y, val_x, 4, k=7, temperature=0.1)
    np.testing.assert_allclose(scores.numpy(), expected, rtol=1e-4)
    ranked = np.argsort(-expected, axis=1)
    result = knn_classify(train_x, train_y, val_x, val_y, 4, k=7, temperature=0.1)
    top1 = 100 * np.mean(ranked[:, 0] == val_y.numpy())
    top2 = 100 * np.mean((ranked[:, :2] == val_y.numpy()[:, None]).any(1))
    assert result['top1'] == pytest.approx(top1)
    assert 0 < top1 < 100  # the fixed set is neither trivial nor hopeless
    assert result['top5'] == 100.0  # 4 classes: every label is within the top 5
    assert knn_classify(train_x, train_y, val_x, val_y, 4, 7, 0.1)['k'] == 7
    # the blocked top-k equals the full one
    query, keys = torch.nn.functional.normalize(val_x, dim=1), \
        torch.nn.functional.normalize(train_x, dim=1)
    sims, indices = nearest_neighbours(query, keys, 7, query_chunk=3, key_chunk=11)
    full_sims, full_indices = (query @ keys.T).topk(7, dim=1)
    assert torch.equal(indices, full_indices)
    torch.testing.assert_close(sims, full_sims)
    assert top2 >= top1


def test_knn_known_answers():
    # two well separated clusters: everything right
    rng = np.random.default_rng(1)
    train_x = torch.tensor(np.concatenate([rng.normal([5, 0], 0.3, (10, 2)),
                                           rng.normal([0, 5], 0.3, (10, 2))]))
    train_y = torch.tensor([0] * 10 + [1] * 10)
    val_x = torch.tensor(np.concatenate([rng.normal([5, 0], 0.3, (5, 2)),
                                         rng.normal([0, 5], 0.3, (5, 2))]))
    val_y = torch.tensor([0] * 5 + [1] * 5)
    assert knn_classify(train_x, train_y, val_x, val_y, 2, k=5)['top1'] == 100.0
    # the weighting decides: one class-1 neighbour at cosine 0.99 against two class-0
    # neighbours at 0.5; exp(0.99/0.07) > 2 exp(0.5/0.07), a plain majority says class 0
    angle = lambda cos: [cos, np.sqrt(1 - cos**2)]  # noqa: E731
    train_x = torch.tensor([angle(0.99), angle(0.5), [0.5, -np.sqrt(0.75)]])
    train_y = torch.tensor([1, 0, 0])
    query, label = torch.tensor([[1.0, 0.0]]), torch.tensor([1])
    assert knn_classify(train_x, train_y, query, label, 2, k=3, temperature=0.07)['top1'] == 100
    assert knn_classify(train_x, train_y, query, label, 2, k=3, temperature=100)['top1'] == 0
    assert knn_classify(train_x, train_y, query, label, 2, k=1, temperature=100)['top1'] == 100


# ----------------------------------------------------------------------- linear probe
def scipy_linear_fit(train_x, train_y, classes, weight_decay):
    """The same objective (mean CE on standardised features + wd/2 ||W||^2) by scipy."""
    mean, std = train_x.mean(0), np.sqrt(train_x.var(0) + 1e-6)
    x = (train_x - mean) / std
    onehot = np.eye(classes)[train_y]
    dims = x.shape[1]

    def objective(params):
        weight, bias = params[:classes * dims].reshape(classes, dims), params[classes * dims:]
        logits = x @ weight.T + bias
        logits -= logits.max(1, keepdims=True)
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        loss = -np.mean(np.log(probs[np.arange(len(x)), train_y])) + \
            0.5 * weight_decay * (weight**2).sum()
        grad_logits = (probs - onehot) / len(x)
        grad_w = grad_logits.T @ x + weight_decay * weight
        return loss, np.concatenate([grad_w.ravel(), grad_logits.sum(0)])

    solution = minimize(objective, np.zeros(classes * (dims + 1)), jac=True, method='L-BFGS-B',
                        options=dict(maxiter=5000, gtol=1e-10, ftol=1e-14))
    weight = solution.x[:classes * dims].reshape(classes, dims)
    bias = solution.x[classes * dims:]
    return lambda features: ((features - mean) / std) @ weight.T + bias


def test_linear_fit_equals_scipy_on_the_same_objective():
    train_x, train_y, val_x, _ = fixed_features(seed=2)
    probe, info = fit_linear(train_x, train_y, 4, weight_decay=1e-2)
    expected = scipy_linear_fit(train_x.numpy(), train_y.numpy(), 4, 1e-2)(val_x.numpy())
    np.testing.assert_allclose(probe.logits(val_x).numpy(), expected, atol=2e-3)
    assert info['grad_max'] < 1e-4
    # the folded layer (for the exported classifier) gives the same logits
    weight, bias = probe.folded()
    torch.testing.assert_close(val_x.float() @ weight.T + bias, probe.logits(val_x),
                               atol=1e-4, rtol=1e-4)


def test_linear_probe_known_answer_and_sweep():
    rng = np.random.default_rng(3)
    centres = np.array([[4.0, 0, 0], [0, 4.0, 0], [0, 0, 4.0]])
    train_y, val_y = np.arange(45) % 3, np.arange(15) % 3
    train_x = torch.tensor(centres[train_y] + 0.3 * rng.normal(size=(45, 3)))
    val_x = torch.tensor(centres[val_y] + 0.3 * rng.normal(size=(15, 3)))
    result, probe = linear_probe(train_x, torch.tensor(train_y), val_x, torch.tensor(val_y), 3,
                                 weight_decays=(1e-4, 1e-2), holdout=0.2)
    assert result['top1'] == 100.0
    assert set(result['sweep']) == {'0.0001', '0.01'}
    assert result['num_heldout'] == 9  # 3 of 15 per class
    assert result['weight_decay'] in (1e-4, 1e-2) and result['converged']
    # the chosen decay is the held-out best (ties: the lower held-out loss)
    best = max(result['sweep'].items(),
               key=lambda item: (item[1]['heldout_top1'], -item[1]['heldout_loss']))
    assert float(best[0]) == result['weight_decay']


def test_stratified_holdout_splits_every_class():
    labels = torch.tensor([0] * 10 + [1] * 5 + [2] * 1)
    fit, held = stratified_holdout(labels, 0.2, seed=0)
    assert sorted(torch.cat([fit, held]).tolist()) == list(range(16))
    assert [int((labels[held] == c).sum()) for c in range(3)] == [2, 1, 0]
    assert torch.equal(held, stratified_holdout(labels, 0.2, seed=0)[1])  # deterministic


# --------------------------------------------------------------------- data + features
def test_feature_pool_layouts():
    pool, cls = FeaturePool('avg', num_extra_tokens=1), FeaturePool('cls')
    fmap = torch.arange(24.).reshape(1, 2, 3, 4)
    torch.testing.assert_close(pool((fmap, ))[0], torch.tensor([[5.5, 17.5]]))
    tokens = torch.tensor([[[9., 9.], [1., 2.], [3., 6.]]])  # cls token + 2 patch tokens
    torch.testing.assert_close(pool(tokens)[0], torch.tensor([[2., 4.]]))
    torch.testing.assert_close(cls(tokens)[0], torch.tensor([[9., 9.]]))
    pooled = torch.randn(2, 5)
    assert pool([fmap, pooled])[0] is pooled  # the last output, already (B, C)
    with pytest.raises(ValueError, match='without a cls token'):
        cls(fmap)
    with pytest.raises(ValueError, match="mode='max' is not one of"):
        FeaturePool('max')


def test_vit_features_avg_and_cls_pooling():
    vit = dict(type='MIMViT', arch=dict(embed_dims=32, num_layers=2, num_heads=2,
                                        feedforward_channels=64), img_size=64, patch_size=16)
    cfg = Config(dict(model=dict(backbone=vit, data_preprocessor=dict(
        type='MaskedImageDataPreprocessor', mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False))))
    images = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    batch = dict(inputs=images, data_samples=None)
    features = {}
    for mode in ('avg', 'cls'):
        extractor = FeatureExtractor(cfg, None, pool=mode, seed=0)
        with torch.no_grad():
            inputs = extractor.data_preprocessor(batch, False)['inputs']
            features[mode] = extractor.neck(extractor.backbone(inputs))[0]
    torch.manual_seed(0)  # the extractor's random init: seed 0, build, init_weights
    reference = MODELS.build(dict(vit, out_type='raw'))
    reference.init_weights()
    reference.eval()
    with torch.no_grad():
        raw = reference(images.float())[0]  # (2, 1 + 16, 32)
    torch.testing.assert_close(features['cls'], raw[:, 0])
    torch.testing.assert_close(features['avg'], raw[:, 1:].mean(1))


def test_scan_split_reads_both_layouts(demo_root, tmp_path):
    root = osp.join(demo_root, 'imagenet')
    listed = scan_split(root, 'val')
    assert len(listed.samples) == 8 and len(listed.classes) == 4
    # the same split as class folders (no meta lists) gives the same labels
    folders = tmp_path / 'folders'
    shutil.copytree(osp.join(root, 'train'), folders / 'train')
    shutil.copytree(osp.join(root, 'val'), folders / 'val')
    by_folder = scan_split(str(folders), 'val')
    assert [label for _, label in by_folder.samples] == [label for _, label in listed.samples]
    # a val split with fewer classes keeps train's labels
    first = sorted(os.listdir(folders / 'val'))[0]
    shutil.rmtree(folders / 'val' / first)
    assert {label for _, label in scan_split(str(folders), 'val').samples} == {1, 2, 3}


def test_feature_cache_reuse_and_invalidation(demo_root, tmp_path):
    cfg = r18_config()
    cache = str(tmp_path / 'cache')
    root = osp.join(demo_root, 'imagenet')
    extractor = FeatureExtractor(cfg, None, seed=0)
    loader = build_eval_dataloader(cfg, root, 'val', batch_size=4, num_workers=0)
    first = extractor.features(loader, cache, 'val', show_progress=False)
    assert first.features.shape == (8, 512) and first.labels.tolist() == \
        [label for _, label in loader.dataset.files.samples]
    assert len(os.listdir(cache)) == 1
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    MMLogger.get_current_instance().addHandler(handler)
    try:
        again = FeatureExtractor(cfg, None, seed=0).features(loader, cache, 'val', False)
    finally:
        MMLogger.get_current_instance().removeHandler(handler)
    assert any('reusing cached features' in message for message in messages)
    torch.testing.assert_close(again.features, first.features)
    torch.testing.assert_close(extractor.extract(loader, False).features, first.features)
    assert len(os.listdir(cache)) == 1
    # another checkpoint: new features
    other = MIMResNet(depth=18)
    checkpoint = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in other.state_dict().items()}),
               checkpoint)
    changed = FeatureExtractor(cfg, checkpoint).features(loader, cache, 'val', False)
    assert len(os.listdir(cache)) == 2
    assert not torch.allclose(changed.features, first.features)
    # the backbone extracted from that checkpoint has the same weights: same cache entry
    extracted = str(tmp_path / 'extracted.pth')
    run([sys.executable, 'tools/extract_backbone.py', checkpoint, extracted])
    FeatureExtractor(cfg, extracted).features(loader, cache, 'val', False)
    assert len(os.listdir(cache)) == 2
    # another transform (crop size): new features
    small = build_eval_dataloader(cfg, root, 'val', batch_size=4, num_workers=0, image_size=64)
    extractor.features(small, cache, 'val', False)
    assert len(os.listdir(cache)) == 3


# ------------------------------------------------------------ tool + exported classifier
def test_evaluate_tool_end_to_end(demo_root, tmp_path):
    out = str(tmp_path / 'eval.json')
    cache = str(tmp_path / 'cache')
    command = [sys.executable, 'tools/evaluate.py', DEMO, '--data-root',
               osp.join(demo_root, 'imagenet'), '--protocol', 'knn', 'linear', '--out', out,
               '--cache-dir', cache, '--batch-size', '8', '--num-workers', '0',
               '--weight-decays', '1e-4', '1e-2', '--save-classifier', str(tmp_path / 'cls'),
               '--cfg-options', *R18_OPTIONS]
    log = run(command)
    with open(out) as f:
        results = json.load(f)
    assert set(results) == {'knn', 'linear'}
    assert results['knn']['k'] == 20 and results['knn']['temperature'] == 0.07
    for protocol in ('knn', 'linear'):
        assert 0 <= results[protocol]['top1'] <= results[protocol]['top5'] <= 100
        assert results[protocol]['num_train'] == 32 and results[protocol]['num_val'] == 8
    assert results['linear']['weight_decay'] in (1e-4, 1e-2)
    assert 'protocol' in log and 'knn' in log and 'reusing' not in log
    assert osp.isfile(tmp_path / 'cls' / 'classifier.py')
    assert osp.isfile(tmp_path / 'cls' / 'classifier.pth')
    again = run(command[:-3 - len(R18_OPTIONS)] + ['--protocol', 'knn', '--cfg-options',
                                                    *R18_OPTIONS])
    assert again.count('reusing cached features') == 2
    with open(out) as f:
        assert json.load(f)['knn'] == results['knn']


def test_exported_classifier_equals_the_probe(demo_root, tmp_path):
    cfg = r18_config()
    root = osp.join(demo_root, 'imagenet')
    extractor = FeatureExtractor(cfg, None, seed=1)
    train = extractor.extract(build_eval_dataloader(cfg, root, 'train', 8, 0), False)
    val_loader = build_eval_dataloader(cfg, root, 'val', 8, 0)
    val = extractor.extract(val_loader, False)
    _, probe = linear_probe(train.features, train.labels, val.features, val.labels, 4,
                            weight_decays=(1e-3, ))
    config_path, checkpoint_path = save_classifier(str(tmp_path / 'cls'), extractor, probe,
                                                   train.classes, 128, meta=dict())
    loaded = Config.fromfile(config_path)
    assert loaded.default_scope == 'mim_agnostic'
    init_default_scope(loaded.default_scope)
    classifier = MODELS.build(loaded.model)
    load_checkpoint(classifier, checkpoint_path, strict=True)
    classifier.eval()
    logits = []
    with torch.no_grad():
        for batch in val_loader:
            data = classifier.data_preprocessor(batch, False)
            logits.append(classifier(data['inputs'], mode='tensor'))
    expected = probe.logits(val.features)
    torch.testing.assert_close(torch.cat(logits), expected, atol=1e-4, rtol=1e-4)
    assert load_checkpoint_file(checkpoint_path)['meta']['dataset_meta']['classes'] == \
        list(train.classes)


# ---------------------------------------------------------------------- online hook
def train_command(work_dir, demo_root, *options, config=KNN_DEMO):
    return [sys.executable, 'tools/train.py', config, '--work-dir', str(work_dir),
            '--cfg-options', f'train_dataloader.dataset.data_root={demo_root}/imagenet',
            'train_dataloader.dataset.indices=16',  # 2 iterations of 8 per epoch
            'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
            'train_cfg.max_epochs=2', 'default_hooks.logger.interval=1',
            'default_hooks.checkpoint.interval=2',
            'custom_hooks.0.interval=1000', 'randomness.seed=0',
            'randomness.deterministic=True', *options]


def test_evaluation_leaves_the_global_rng_alone(demo_root):
    states = lambda: (random.getstate(), np.random.get_state()[1].copy(),  # noqa: E731
                      torch.get_rng_state())
    before = states()
    with preserved_rng():
        random.random(), np.random.rand(), torch.rand(1)
    after = states()
    assert after[0] == before[0] and np.array_equal(after[1], before[1])
    assert torch.equal(after[2], before[2])
    # iterating an eval loader draws nothing from the global torch RNG (its own generator)
    loader = build_eval_dataloader(r18_config(), osp.join(demo_root, 'imagenet'), 'val', 8, 0)
    next(iter(loader))
    assert torch.equal(torch.get_rng_state(), before[2])


def test_hook_subsets_are_evenly_spaced_over_the_classes():
    files = SplitFiles([(f'{label}/{i}.png', label) for label in range(3) for i in range(4)],
                       ('a', 'b', 'c'))
    subset = evenly_spaced(files, 6)
    assert [label for _, label in subset.samples] == [0, 0, 1, 1, 2, 2]
    assert evenly_spaced(files, None) is files and evenly_spaced(files, 20) is files


def test_gathered_shards_come_back_in_order():
    samples = torch.arange(22.).reshape(11, 2)  # 11 samples over 3 ranks: 4, 4, 3 rows
    shards = [torch.cat([samples[r::3], torch.zeros(4 - len(samples[r::3]), 2)])
              for r in range(3)]
    assert torch.equal(interleave(shards, 11), samples)


def test_online_knn_hook_logs_and_leaves_training_alone(demo_root, tmp_path):
    with_hook = tmp_path / 'with'
    log = run(train_command(with_hook, demo_root, f'custom_hooks.1.data_root={demo_root}/imagenet',
                            'custom_hooks.1.interval=1', 'custom_hooks.1.num_workers=0'))
    assert 'kNN (k=20, T=0.07, 32 train / 8 val images): top1' in log
    records = []
    for path in glob.glob(str(with_hook / '*' / 'vis_data' / 'scalars.json')):
        with open(path) as f:
            records += [json.loads(line) for line in f if 'knn/top1' in line]
    assert [r['step'] for r in records] == [2, 4]  # after epochs 1 and 2 (2 iterations each)
    assert all(0 <= r['knn/top1'] <= r['knn/top5'] <= 100 for r in records)
    # the last value is tools/evaluate.py's kNN of the checkpoint saved after it
    settings = EvalSettings(data_root=f'{demo_root}/imagenet', protocols=['knn'], num_workers=0)
    offline = evaluate_checkpoint(r18_config(), str(with_hook / 'epoch_2.pth'), settings)
    assert (offline['knn']['top1'], offline['knn']['top5']) == \
        (records[-1]['knn/top1'], records[-1]['knn/top5'])
    # the same run without the hook ends with exactly the same weights
    without = tmp_path / 'without'
    run(train_command(without, demo_root, *R18_OPTIONS, config=DEMO))
    trained = [load_checkpoint_file(str(d / 'epoch_2.pth'))['state_dict'] for d in
               (with_hook, without)]
    assert trained[0].keys() == trained[1].keys()
    for key in trained[0]:
        assert torch.equal(trained[0][key], trained[1][key]), key


# ---------------------------------------------------------------------- bad inputs
class Payload:
    """Unpickling this runs a shell command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def test_bad_inputs_fail_before_extraction(demo_root, tmp_path):
    cfg = r18_config()
    empty = tmp_path / 'empty'
    (empty / 'train' / 'cat').mkdir(parents=True)
    (empty / 'val' / 'cat').mkdir(parents=True)
    with pytest.raises(ValueError, match=r'empty/train holds no images'):
        scan_split(str(empty), 'train')
    with pytest.raises(FileNotFoundError, match='no such folder'):
        scan_split(str(tmp_path / 'nowhere'), 'train')
    # a val class that train does not have
    root = tmp_path / 'extra_class'
    shutil.copytree(osp.join(demo_root, 'imagenet', 'train'), root / 'train')
    shutil.copytree(osp.join(demo_root, 'imagenet', 'val'), root / 'val')
    shutil.copytree(root / 'val' / sorted(os.listdir(root / 'val'))[0], root / 'val' / 'zebra')
    with pytest.raises(ValueError, match=r"val class folders \['zebra'\].*no folder in train"):
        scan_split(str(root), 'val')
    # a checkpoint of another architecture: named keys, nothing extracted or cached
    wrong = str(tmp_path / 'r50.pth')
    torch.save(dict(state_dict=MIMResNet(depth=50).state_dict()), wrong)
    cache = tmp_path / 'cache'
    settings = EvalSettings(data_root=osp.join(demo_root, 'imagenet'), cache_dir=str(cache),
                            num_workers=0)
    with pytest.raises(ValueError, match=r'does not fit the config backbone MIMResNet: .*'
                                         r'unexpected keys .*layer1\.0\.conv3\.weight'):
        evaluate_checkpoint(cfg, wrong, settings)
    assert not cache.exists()
    # pickled code in the checkpoint: refused, never run
    marker = tmp_path / 'pwned'
    evil = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, meta=dict(note=Payload(marker))), evil)
    with pytest.raises(UnsafeCheckpointError, match=r'refused to load .*\(posix.system\)'):
        FeatureExtractor(cfg, evil)
    assert not marker.exists()
    output = run([sys.executable, 'tools/evaluate.py', DEMO, wrong, '--data-root',
                  str(empty), '--cfg-options', *R18_OPTIONS], expect_failure=True)
    assert 'error: ' in output and 'holds no images' in output


def test_hidden_files_are_not_images_or_classes_and_rewritten_images_change_the_key(tmp_path):
    """macOS ``._x.jpg`` resource forks and ``.ipynb_checkpoints`` folders are skipped (as
    UnlabeledImageFolder skips them); an image rewritten under the same name gets a new
    cache fingerprint, so stale features are never reused."""
    from PIL import Image
    for split in ('train', 'val'):
        for name in ('cat', 'dog'):
            folder = tmp_path / split / name
            folder.mkdir(parents=True)
            Image.new('RGB', (8, 8), (10, 20, 30)).save(folder / 'a.png')
            (folder / '._a.png').write_bytes(b'\x00\x05\x16\x07')  # AppleDouble, no image
        (tmp_path / split / '.ipynb_checkpoints').mkdir()
    files = scan_split(str(tmp_path), 'train')
    assert files.classes == ('cat', 'dog')
    assert [osp.relpath(path, tmp_path) for path, _ in files.samples] == \
        ['train/cat/a.png', 'train/dog/a.png']
    before = files.fingerprint()
    assert scan_split(str(tmp_path), 'train').fingerprint() == before  # nothing changed
    Image.new('RGB', (8, 8), (200, 20, 30)).save(tmp_path / 'train' / 'cat' / 'a.png')
    os.utime(tmp_path / 'train' / 'cat' / 'a.png', ns=(1, 1))  # even with an old mtime
    assert scan_split(str(tmp_path), 'train').fingerprint() != before
