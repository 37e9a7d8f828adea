# SimMIM ViT-tiny-6l for the CPU study: masked patch tokens replaced by the token after the
# patch embedding, no pixel fill, L1 on masked pixels; ViT-tiny's width at half its depth, 8 px
# patches on 64 px crops; 16 px blocks, 10 of 16 masked.
_base_ = ['../_base_/models/simmim_vit-base.py', './_base_/study_cpu.py']

# ViT-tiny's width (192-d, 3 heads, MLP 768) at half its depth: 6 layers (replacing the
# base's arch name)
vit_tiny_6l = dict(_delete_=True, embed_dims=192, num_layers=6, num_heads=3,
                   feedforward_channels=768)

model = dict(backbone=dict(arch=vit_tiny_6l, img_size=64, patch_size=8),
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

# budget: 290 iterations = 290 x 0.52 s = ~150 CPU-seconds (one thread, measured),
# like every study run; 10 % warmup, cosine to 1e-5
max_iters = 290
warmup_iters = max_iters // 10
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=1e-5,
         by_epoch=False, begin=warmup_iters, end=max_iters),
]
