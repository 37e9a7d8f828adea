# SymMIM ViT-tiny-6l for the CPU study: SimMIM's ViT reconstruction path + the MoCo v3 term
# with 1024-wide MLPs; checkerboards of one patch (online) and 2x2 patches (momentum) on the
# 8x8 token grid of a 64 px crop, random phase.
_base_ = ['../_base_/models/symmim_vit-base.py', './_base_/study_cpu.py']

# ViT-tiny's width (192-d, 3 heads, MLP 768) at half its depth: 6 layers (replacing the
# base's arch name)
vit_tiny_6l = dict(_delete_=True, embed_dims=192, num_layers=6, num_heads=3,
                   feedforward_channels=768)

bn1d = dict(type='BN1d', requires_grad=True)  # the MLPs see (B, C) vectors
model = dict(
    backbone=dict(arch=vit_tiny_6l, img_size=64, patch_size=8),
    neck=dict(in_channels=192, encoder_stride=8),
    projector=dict(in_channels=192, hid_channels=1024, norm_cfg=bn1d),
    contrast_head=dict(predictor=dict(hid_channels=1024, norm_cfg=bn1d)))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.8, 1.0),
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='CheckerboardMaskGenerator', input_size=64, mask_patch_size=8,
         model_patch_size=8, momentum_scale=2, random_phase=True),
    dict(type='PackInputs', algorithm_keys=('momentum_mask', )),
]))
# the ViT recipe's lr (for batch 32) and gradient clipping
optim_wrapper = dict(optimizer=dict(lr=5e-4), clip_grad=dict(max_norm=5.0))

# budget: 190 iterations = 190 x 0.79 s = ~150 CPU-seconds (one thread, measured),
# like every study run; 10 % warmup, cosine to 1e-5
max_iters = 190
warmup_iters = max_iters // 10
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=1e-5,
         by_epoch=False, begin=warmup_iters, end=max_iters),
]
