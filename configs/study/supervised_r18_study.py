# Supervised baseline of the CPU study: mmpretrain's ImageClassifier on the same ResNet-18
# backbone (MIMResNet without a mask = ResNet), global average pooling + linear head on the 32
# study classes, cross-entropy; the same data, crops, optimiser and budget as the MIM runs.
_base_ = ['./_base_/study_cpu.py']

model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=32,
                           mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           to_rgb=True),
    backbone=dict(type='MIMResNet', depth=18, out_indices=(3, ),
                  norm_cfg=dict(type='BN', requires_grad=True)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=32, in_channels=512,
              loss=dict(type='CrossEntropyLoss')))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.8, 1.0),
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]))

# budget: 380 iterations = 380 x 0.40 s = ~150 CPU-seconds (one thread, measured),
# like every study run; 10 % warmup, cosine to 1e-5
max_iters = 380
warmup_iters = max_iters // 10
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=1e-5,
         by_epoch=False, begin=warmup_iters, end=max_iters),
]
