# Supervised baseline of the CPU study: mmpretrain's ImageClassifier on the same ViT-tiny-6l
# backbone (MIMViT without a mask = BEiT-style ViT, 8 px patches, 64 px), mean of the patch
# tokens + linear head on the 32 study classes, cross-entropy; the same data, crops, optimiser
# and budget as the MIM runs.
_base_ = ['./_base_/study_cpu.py']

# ViT-tiny's width (192-d, 3 heads, MLP 768) at half its depth: 6 layers
vit_tiny_6l = dict(embed_dims=192, num_layers=6, num_heads=3, feedforward_channels=768)

model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=32,
                           mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           to_rgb=True),
    backbone=dict(type='MIMViT', arch=vit_tiny_6l, img_size=64, patch_size=8,
                  drop_path_rate=0.1),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=32, in_channels=192,
              loss=dict(type='CrossEntropyLoss')))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.8, 1.0),
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]))
# the ViT recipe's lr (for batch 32) and gradient clipping
optim_wrapper = dict(optimizer=dict(lr=5e-4), clip_grad=dict(max_norm=5.0))

# budget: 280 iterations = 280 x 0.54 s = ~150 CPU-seconds (one thread, measured),
# like every study run; 10 % warmup, cosine to 1e-5
max_iters = 280
warmup_iters = max_iters // 10
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=1e-5,
         by_epoch=False, begin=warmup_iters, end=max_iters),
]
