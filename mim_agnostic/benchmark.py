"""Training-step and data-pipeline benchmarks (``tools/benchmark.py`` is the CLI).

Every method is timed on the same backbone, batch, resolution and device, in one process:
a few warm-up steps, then the median of ``steps`` full training steps (data preprocessor,
forward, backward, optimizer step). Ratios are to the plain supervised backbone
(mmpretrain ``ImageClassifier``, 1000-class linear head, cross-entropy). Models come from
the repository's ``configs/`` (an editable install, as ``tools/install.sh`` makes).
"""
import os
import statistics
import time
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mim_agnostic.datasets.transforms import BlockMaskGenerator, CheckedLoadImageFromFile
from mim_agnostic.registry import MODELS, TRANSFORMS
from mim_agnostic.utils.config_check import find_transforms
from mim_agnostic.utils.runtime import replace_sync_bn
from mim_agnostic.utils.seeding import seed_for_sample

REPO_CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            'configs')
# the config of each method on each backbone; the plain model uses the A²MIM backbone
METHOD_CONFIGS = {
    'a2mim': {'r50': 'a2mim_r50.py', 'vit-b': 'a2mim_vit-base.py',
              'convnext-t': 'a2mim_convnext-tiny.py'},
    'simmim': {'r50': 'simmim_r50_300e.py', 'vit-b': 'simmim_vit-base_800e.py'},
    'symmim': {'r50': 'symmim_r50_300e.py', 'vit-b': 'symmim_vit-base_800e.py'},
    'mixmim': {'vit-b': 'mixmim_mixmim-base_300e.py'},  # MixMIM-B, ViT-B sized, 224 px only
}
BACKBONES = METHOD_CONFIGS['a2mim']
PLAIN_TYPES = {'MIMResNet': 'ResNet', 'MIMViT': 'BEiTViT', 'MIMConvNeXt': 'ConvNeXt'}
MASK_KEYS = ('mask_stage', 'mask_layer', 'mask_mode', 'mask_gamma_init')
PREPROCESSOR = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
METHODS = ('plain', 'a2mim', 'simmim', 'symmim', 'spark', 'mixmim')


def method_config(method: str, backbone: str, size: int) -> Config:
    """The repository config of ``method`` on ``backbone``, its ViT sized for ``size``."""
    cfg = Config.fromfile(os.path.join(REPO_CONFIGS, METHOD_CONFIGS[method][backbone]))
    if cfg.model.backbone.type == 'MIMViT':
        cfg.model.backbone.img_size = size
    if method == 'mixmim' and size != 224:
        raise ValueError('MixMIM-B is benchmarked at 224 px (its window sizes fix the input)')
    return cfg


def masked_batch(cfg: Config, size: int, batch_size: int) -> dict:
    """Random uint8 ``size`` px images and data samples carrying what the config's mask
    transform writes (``mask``, and SymMIM's ``momentum_mask``); plain samples when the
    config has no mask transform."""
    samples = [DataSample() for _ in range(batch_size)]
    transforms = list(find_transforms(cfg.get('train_dataloader', {}), 'model_patch_size'))
    if transforms:
        (_, mask_cfg), = transforms
        generator = TRANSFORMS.build({**mask_cfg, 'input_size': size})
        for sample in samples:
            results = generator(dict(img=np.zeros((size, size, 3), np.uint8)))
            sample.set_mask(torch.from_numpy(results['mask']))
            if 'momentum_mask' in results:
                sample.set_field(results['momentum_mask'], 'momentum_mask')  # as PackInputs
    images = torch.randint(0, 256, (batch_size, 3, size, size), dtype=torch.uint8)
    return dict(inputs=images, data_samples=samples)


def build_model(method: str, backbone: str, size: int) -> torch.nn.Module:
    """The model of ``method`` on ``backbone`` for ``size`` px inputs (SyncBN -> BN)."""
    init_default_scope('mim_agnostic')
    if not MMLogger.check_instance_created('mim_agnostic_benchmark'):  # no init reports
        MMLogger.get_instance('mim_agnostic_benchmark', log_level='WARNING')
    # SymMIM's momentum schedule reads the run length; any long run gives the same cost
    MessageHub.get_current_instance().update_info('max_iters', 10**6)
    if method == 'plain':
        a2mim = method_config('a2mim', backbone, size).model
        backbone_cfg = {k: v for k, v in a2mim.backbone.items() if k not in MASK_KEYS}
        backbone_cfg['type'] = PLAIN_TYPES[a2mim.backbone.type]
        is_vit = backbone_cfg['type'] == 'BEiTViT'
        if is_vit:  # the MIMViT defaults, pooled as in BEiT fine-tuning
            backbone_cfg.update(use_abs_pos_emb=True, use_rel_pos_bias=True,
                                norm_cfg=dict(type='LN', eps=1e-6), out_type='avg_featmap')
        cfg = dict(type='ImageClassifier', backbone=backbone_cfg,
                   neck=None if is_vit else dict(type='GlobalAveragePooling'),
                   head=dict(type='LinearClsHead', num_classes=1000,
                             in_channels=a2mim.neck.in_channels),
                   data_preprocessor=dict(type='ClsDataPreprocessor', **PREPROCESSOR))
    elif method == 'spark':
        if backbone != 'r50':
            raise ValueError('SparK applies to CNNs only (mmpretrain SparseResNet)')
        norm = dict(type='SparseBatchNorm2d')
        cfg = dict(type='SparK', input_size=size, downsample_raito=32, mask_ratio=0.6,
                   enc_dec_norm_cfg=norm, enc_dec_norm_dim=2048,
                   backbone=dict(type='SparseResNet', depth=50, out_indices=(0, 1, 2, 3),
                                 norm_cfg=norm, drop_path_rate=0.05),
                   neck=dict(type='SparKLightDecoder', feature_dim=512, upsample_ratio=32,
                             mid_channels=0, last_act=False),
                   head=dict(type='SparKPretrainHead',
                             loss=dict(type='PixelReconstructionLoss', criterion='L2')),
                   data_preprocessor=dict(type='SelfSupDataPreprocessor', **PREPROCESSOR))
    elif method in METHOD_CONFIGS:
        if not applies(method, backbone):
            raise ValueError(f'no {method} config for {backbone}: '
                             f'{sorted(METHOD_CONFIGS[method])}')
        cfg = method_config(method, backbone, size).model
    else:
        raise ValueError(f'unknown method {method!r}; choose from {METHODS}')
    model = MODELS.build(replace_sync_bn(cfg))
    model.init_weights()
    return model


def applies(method: str, backbone: str, size: int = 224) -> bool:
    """SparK runs on mmpretrain's SparseResNet-50, MixMIM on its own MixMIM-B (a ViT-B
    sized hierarchical transformer, compared with ViT-B) at 224 px only; the others where
    a config is."""
    if method == 'spark':
        return backbone == 'r50'
    if method == 'mixmim' and size != 224:
        return False
    return method == 'plain' or backbone in METHOD_CONFIGS[method]


def make_batch(method: str, backbone: str, batch_size: int, size: int) -> dict:
    """uint8 images and the data samples the method needs (labels or masks)."""
    cfg = method_config(method, backbone, size) if method in METHOD_CONFIGS else Config()
    batch = masked_batch(cfg, size, batch_size)
    if method == 'plain':
        for i, sample in enumerate(batch['data_samples']):
            sample.set_gt_label(i % 1000)
    return batch


def _synchronize(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def _optim_wrapper(model: torch.nn.Module, device: str, amp: Optional[str]):
    optim_cfg = dict(type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05, fused=True))
    if amp is not None:
        if not device.startswith('cuda'):
            raise ValueError('--amp needs a GPU (mmengine AmpOptimWrapper)')
        optim_cfg.update(type='AmpOptimWrapper',
                         dtype=dict(fp16='float16', bf16='bfloat16')[amp])
    return build_optim_wrapper(model, optim_cfg)


def _timed_step(model, batch, optim_wrapper, device: str) -> float:
    _synchronize(device)
    start = time.perf_counter()
    model.train_step(batch, optim_wrapper)
    _synchronize(device)
    return time.perf_counter() - start


def time_training_step(model: torch.nn.Module, batch: dict, device: str, steps: int,
                       warmup: int, amp: Optional[str] = None) -> Dict[str, float]:
    """Median/min seconds of a full training step of one model and its peak memory in MiB
    (GPU: peak allocated; CPU: NaN, see :func:`cpu_peak_mib`)."""
    model.to(device)
    optim_wrapper = _optim_wrapper(model, device, amp)
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    times = [_timed_step(model, batch, optim_wrapper, device) for _ in range(warmup + steps)]
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.startswith('cuda') \
        else float('nan')
    return dict(median_s=statistics.median(times[warmup:]), min_s=min(times[warmup:]),
                peak_mib=peak)


def _proc_status_kib(field: str) -> int:
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ':'))


def _cpu_peak_child(method: str, backbone: str, batch_size: int, size: int,
                    queue) -> None:
    import mim_agnostic  # noqa: F401  (registries in the fresh interpreter)
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')  # reset the peak RSS (VmHWM) to the current RSS
    baseline = _proc_status_kib('VmRSS')
    torch.manual_seed(0)
    model = build_model(method, backbone, size)
    time_training_step(model, make_batch(method, backbone, batch_size, size), 'cpu', 1, 1)
    queue.put((_proc_status_kib('VmHWM') - baseline) / 1024)


def cpu_peak_mib(method: str, backbone: str, batch_size: int, size: int) -> float:
    """Peak resident memory (MiB) that two training steps of ``method`` add to a fresh
    interpreter: CPU tensors have no allocator statistics, so each method runs alone in a
    spawned process."""
    import multiprocessing
    context = multiprocessing.get_context('spawn')
    queue = context.Queue()
    process = context.Process(target=_cpu_peak_child,
                              args=(method, backbone, batch_size, size, queue))
    process.start()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f'memory measurement of {method} failed (exit {process.exitcode})')
    return queue.get()


def benchmark_methods(backbone: str, batch_size: int, size: int, device: str, steps: int,
                      warmup: int = 1, amp: Optional[str] = None, channels_last: bool = False,
                      compile_model: bool = False, methods=METHODS, cpu_memory: bool = True,
                      rounds: int = 3) -> List[Dict[str, object]]:
    """One row per method that applies to ``backbone``, with ratios to ``plain``.

    All models are built first; then, ``rounds`` times, each method runs ``warmup + steps``
    consecutive steps (as in training: one step at a time per model measured 2-4x slower
    steps on CPU, the allocator and oneDNN caches being rebuilt at every switch) and the
    ``steps`` after its warm-up are kept. Rounds spread the machine's drifts over all
    methods; the median over rounds is reported. Peak memory: allocator peak of each model
    alone on GPU, :func:`cpu_peak_mib` on CPU (``cpu_memory=False`` skips it)."""
    runs = {}
    for method in [m for m in methods if applies(m, backbone, size)]:
        torch.manual_seed(0)
        np.random.seed(0)
        model = build_model(method, backbone, size).to(device)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        if compile_model:
            model.backbone = torch.compile(model.backbone)
        runs[method] = (model, make_batch(method, backbone, batch_size, size),
                        _optim_wrapper(model, device, amp))
    times: Dict[str, List[float]] = {method: [] for method in runs}
    for _ in range(rounds):
        for method, (model, batch, optim_wrapper) in runs.items():
            block = [_timed_step(model, batch, optim_wrapper, device)
                     for _ in range(warmup + steps)]
            times[method] += block[warmup:]
    rows = []
    if device.startswith('cuda'):  # measure each model alone on the GPU
        runs = {method: (model.cpu(), batch, None) for method, (model, batch, _) in runs.items()}
        torch.cuda.empty_cache()
    for method, (model, batch, _) in runs.items():
        if device.startswith('cuda'):
            peak = time_training_step(model, batch, device, 1, 0, amp)['peak_mib']
            model.cpu()
            torch.cuda.empty_cache()
        elif cpu_memory:
            peak = cpu_peak_mib(method, backbone, batch_size, size)
        else:
            peak = float('nan')
        median = statistics.median(times[method])
        rows.append(dict(method=method, backbone=backbone, batch=batch_size, size=size,
                         device=device, amp=amp or 'fp32', median_s=median,
                         min_s=min(times[method]), peak_mib=peak,
                         images_per_s=batch_size / median))
    plain = next((r for r in rows if r['method'] == 'plain'), None)
    for row in rows:
        row['time_ratio'] = row['median_s'] / plain['median_s'] if plain else float('nan')
        row['memory_ratio'] = row['peak_mib'] / plain['peak_mib'] if plain else float('nan')
    return rows


def format_table(rows: List[Dict[str, object]]) -> str:
    header = ('| method | backbone | batch x size | device | step (ms, median) | images/s | '
              'x plain | peak MiB | mem x plain |')
    lines = [header, '|' + '---|' * 9]
    for r in rows:
        lines.append(f"| {r['method']} | {r['backbone']} | {r['batch']} x {r['size']} | "
                     f"{r['device']} {r['amp']} | {1000 * r['median_s']:.1f} | "
                     f"{r['images_per_s']:.1f} | {r['time_ratio']:.3f} | {r['peak_mib']:.0f} | "
                     f"{r['memory_ratio']:.3f} |")
    return '\n'.join(lines)


def benchmark_pipeline(data_root: str, num_images: int, size: int = 224,
                       model_patch_size: int = 16) -> Dict[str, float]:
    """Seconds per image of the per-sample seeding (``SampleSeededDataset``) and of each
    transform of the A²MIM pretraining pipeline (one worker) on the ImageNet-style folder
    ``data_root``, images/s with and without the seeding, and the shares of seeding and
    mask generator."""
    from mmpretrain.datasets.transforms import PackInputs, RandomFlip, RandomResizedCrop
    from mmpretrain.datasets import ImageNet
    dataset = ImageNet(data_root=data_root, split='train', lazy_init=False)
    transforms: Dict[str, Callable] = dict(
        load=CheckedLoadImageFromFile(),
        random_resized_crop=RandomResizedCrop(scale=size, crop_ratio_range=(0.8, 1.0),
                                              backend='pillow', interpolation='bilinear'),
        flip=RandomFlip(prob=0.5),
        mask=BlockMaskGenerator(size, 32, model_patch_size, 0.6),
        pack=PackInputs())
    seconds = dict.fromkeys(['seed', *transforms], 0.0)
    count = min(num_images, len(dataset))
    for index in range(count):
        start = time.perf_counter()
        seed_for_sample(0, 0, index)
        seconds['seed'] += time.perf_counter() - start
        results = dict(img_path=dataset.get_data_info(index)['img_path'])
        for name, transform in transforms.items():
            start = time.perf_counter()
            results = transform(results)
            seconds[name] += time.perf_counter() - start
    per_image = {name: value / count for name, value in seconds.items()}
    total = sum(per_image.values())
    return dict(images=count, images_per_s=1 / total,
                images_per_s_unseeded=1 / (total - per_image['seed']),
                seed_share=per_image['seed'] / total, mask_share=per_image['mask'] / total,
                **{f'{name}_ms': 1000 * value for name, value in per_image.items()})
