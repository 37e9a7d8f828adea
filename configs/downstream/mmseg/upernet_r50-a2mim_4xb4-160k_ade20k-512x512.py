# UperNet R50 on ADE20K from an A²MIM ResNet-50, 512x512 crops, 160k iterations, SGD lr 0.01
# (batch 16). The backbone is the standard-stem ResNet-50 that A²MIM pretrains, so every
# stem key loads (mmseg's UperNet base uses the deep-stem ResNetV1c, the reference's trap).
#   python tools/extract_backbone.py work_dirs/a2mim_r50/epoch_300.pth r50_a2mim.pth --to mmseg
#   tools/dist_train.sh configs/downstream/mmseg/upernet_r50-a2mim_4xb4-160k_ade20k-512x512.py 4
_base_ = 'mmseg::upernet/upernet_r50_4xb4-160k_ade20k-512x512.py'
custom_imports = dict(imports=['mim_agnostic'], allow_failed_imports=False)

pretrained = 'r50_a2mim.pth'  # or --cfg-options model.backbone.init_cfg.checkpoint=PATH
model = dict(
    pretrained=None,
    backbone=dict(
        type='ResNet',
        depth=50,
        deep_stem=False,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)))

# ADE20K training pipeline of the base, with the label maps checked right after loading
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='mim_agnostic.CheckSegLabels', num_classes=150),  # names a bad map's file
    dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(512, 512), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]))
