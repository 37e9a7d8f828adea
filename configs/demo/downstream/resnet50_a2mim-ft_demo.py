# The RSB-A3 fine-tuning recipe for an A²MIM ResNet-50 on the generated demo ImageNet (8
# classes), sized for a CPU: 96 px crops (test 112 -> 96), batch 16, 10 epochs, top-1.
_base_ = '../../downstream/mmpretrain/resnet50_a2mim-rsb-a3_8xb256-100e_in1k.py'

pretrained = 'work_dirs/a2mim_r50_demo/r50_a2mim.pth'
data_root = 'data/demo/imagenet'
num_classes = 8
data_preprocessor = dict(num_classes=num_classes)
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)),
             head=dict(num_classes=num_classes))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=96, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=112, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=96),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=False,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=8, eta_min=1e-6, by_epoch=True, begin=2, end=10),
]
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=10)
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(logger=dict(interval=4), checkpoint=dict(interval=5, max_keep_ckpts=1))
randomness = dict(seed=0)
