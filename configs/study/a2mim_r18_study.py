# A²MIM ResNet-18 for the CPU study: the R50 recipe (token + gamma at the layer4 input, stride
# 16; focal-L1 + focal frequency loss) on ResNet-18 at 64 px: 4x4 blocks of 16 px, 10 masked.
_base_ = ['../_base_/models/a2mim_r50.py', './_base_/study_cpu.py']

model = dict(backbone=dict(depth=18, norm_cfg=dict(type='BN', requires_grad=True)),
             neck=dict(in_channels=512))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.8, 1.0),
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='BlockMaskGenerator', input_size=64, mask_patch_size=16, model_patch_size=16,
         mask_ratio=0.6),
    dict(type='PackInputs'),
]))

# budget: 300 iterations = 300 x 0.49 s = ~150 CPU-seconds (one thread, measured),
# like every study run; 10 % warmup, cosine to 1e-5
max_iters = 300
warmup_iters = max_iters // 10
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=1e-5,
         by_epoch=False, begin=warmup_iters, end=max_iters),
]
