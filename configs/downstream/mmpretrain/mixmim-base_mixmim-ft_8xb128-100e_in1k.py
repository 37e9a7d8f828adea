# ImageNet fine-tuning of a MixMIM-B pretrained with configs/mixmim_mixmim-base_300e.py
# (84.6 top-1 in mmpretrain): mmpretrain's recipe (AdamW lr 2e-3 for batch 1024, layer decay
# 0.7, drop path 0.1, 100 epochs) on the backbone extracted by tools/extract_backbone.py.
_base_ = 'mmpretrain::mixmim/benchmarks/mixmim-base_8xb128-coslr-100e_in1k.py'
custom_imports = dict(imports=['mim_agnostic'], allow_failed_imports=False)

pretrained = 'mixmim-base_mixmim.pth'  # or --cfg-options model.backbone.init_cfg.checkpoint=
model = dict(backbone=dict(
    init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=pretrained)))
