# Linear probing of an A²MIM ResNet-50: frozen backbone, SGD lr 0.4 (batch 1024), 90 epochs.
_base_ = 'mmpretrain::mocov3/benchmarks/resnet50_8xb128-linear-coslr-90e_in1k.py'
custom_imports = dict(imports=['mim_agnostic'], allow_failed_imports=False)

pretrained = 'r50_a2mim.pth'  # or --cfg-options model.backbone.init_cfg.checkpoint=PATH
model = dict(backbone=dict(
    init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=pretrained)))
