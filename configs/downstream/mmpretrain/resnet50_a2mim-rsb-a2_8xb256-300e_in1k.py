# ImageNet fine-tuning of an A²MIM ResNet-50 with RSB-A2 (the paper's 80.4 top-1 protocol):
# LAMB lr 5e-3, wd 0.02, 300 epochs, 224 px, Mixup/CutMix + BCE, drop path 0.05.
#   python tools/extract_backbone.py work_dirs/a2mim_r50/epoch_300.pth r50_a2mim.pth
#   tools/dist_train.sh configs/downstream/mmpretrain/resnet50_a2mim-rsb-a2_8xb256-300e_in1k.py 8
_base_ = 'mmpretrain::resnet/resnet50_8xb256-rsb-a2-300e_in1k.py'
custom_imports = dict(imports=['mim_agnostic'], allow_failed_imports=False)

pretrained = 'r50_a2mim.pth'  # or --cfg-options model.backbone.init_cfg.checkpoint=PATH
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
