# SimMIM ViT-tiny for the CPU study: masked patch tokens replaced by the token after the patch
# embedding, no pixel fill, L1 on masked pixels; ViT-tiny (192-d, 12 layers, 3 heads), 8 px
# patches on 64 px crops; 16 px blocks, 10 of 16 masked.
_base_ = ['../_base_/models/simmim_vit-base.py', './_base_/study_cpu.py']

model = dict(backbone=dict(arch='deit-tiny', img_size=64, patch_size=8),
             neck=dict(in_channels=192, encoder_stride=8))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.8, 1.0),
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='BlockMaskGenerator', input_size=64, mask_patch_size=16, model_patch_size=8,
         mask_ratio=0.6),
    dict(type='PackInputs'),
]))
# the ViT recipe's lr (for batch 32) and gradient clipping
optim_wrapper = dict(optimizer=dict(lr=5e-4), clip_grad=dict(max_norm=5.0))

# budget: 300 iterations (~4 min on the shared 2-core machine), 10 % warmup, cosine to 1e-5
max_iters = 300
warmup_iters = max_iters // 10
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=1e-5,
         by_epoch=False, begin=warmup_iters, end=max_iters),
]
