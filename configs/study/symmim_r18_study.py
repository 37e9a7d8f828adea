# SymMIM ResNet-18 for the CPU study: A²MIM's R18 reconstruction path + the MoCo v3 term with
# 1024-wide MLPs; checkerboards of 16 px (online) and 32 px (momentum) cells at the layer4
# input of a 64 px crop (4x4 grid), random phase.
_base_ = ['../_base_/models/symmim_r50.py', './_base_/study_cpu.py']

bn = dict(type='BN', requires_grad=True)
bn1d = dict(type='BN1d', requires_grad=True)  # the MLPs see (B, C) vectors
model = dict(
    backbone=dict(depth=18, norm_cfg=bn),
    neck=dict(in_channels=512),
    projector=dict(in_channels=512, hid_channels=1024, norm_cfg=bn1d),
    contrast_head=dict(predictor=dict(hid_channels=1024, norm_cfg=bn1d)))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.8, 1.0),
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='CheckerboardMaskGenerator', input_size=64, mask_patch_size=16,
         model_patch_size=16, momentum_scale=2, random_phase=True),
    dict(type='PackInputs', algorithm_keys=('momentum_mask', )),
]))

# budget: 210 iterations = 210 x 0.72 s = ~150 CPU-seconds (one thread, measured),
# like every study run; 10 % warmup, cosine to 1e-5
max_iters = 210
warmup_iters = max_iters // 10
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=1e-5,
         by_epoch=False, begin=warmup_iters, end=max_iters),
]
