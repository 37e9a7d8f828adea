# ImageNet fine-tuning of an A²MIM ResNet-50 with RSB-A3: LAMB lr 8e-3, wd 0.02, 100 epochs,
# train at 160 px, test at 224 px (resize 236).
_base_ = 'mmpretrain::resnet/resnet50_8xb256-rsb-a3-100e_in1k.py'
custom_imports = dict(imports=['mim_agnostic'], allow_failed_imports=False)

pretrained = 'r50_a2mim.pth'  # or --cfg-options model.backbone.init_cfg.checkpoint=PATH
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
