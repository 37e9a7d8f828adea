# SimMIM ResNet-18 for the CPU study: token replacing the stem output (stride 4), no pixel
# fill, L1 on masked pixels; 64 px crops, 4x4 blocks of 16 px, 10 masked.
_base_ = ['../_base_/models/simmim_r50.py', './_base_/study_cpu.py']

model = dict(backbone=dict(depth=18, norm_cfg=dict(type='BN', requires_grad=True)),
             neck=dict(in_channels=512))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.8, 1.0),
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='BlockMaskGenerator', input_size=64, mask_patch_size=16, model_patch_size=4,
         mask_ratio=0.6),
    dict(type='PackInputs'),
]))

# budget: 320 iterations = 320 x 0.46 s = ~150 CPU-seconds (one thread, measured),
# like every study run; 10 % warmup, cosine to 1e-5
max_iters = 320
warmup_iters = max_iters // 10
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=1e-5,
         by_epoch=False, begin=warmup_iters, end=max_iters),
]
