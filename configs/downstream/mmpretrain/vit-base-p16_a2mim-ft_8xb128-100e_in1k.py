# ImageNet fine-tuning of an A²MIM ViT-B/16 (BEiT/SimMIM protocol, 84.3 top-1 in the
# paper): the pretraining encoder (abs + relative position embeddings, layer scale 0.1),
# AdamW lr 4e-3 (batch 1024), layer-wise lr decay 0.65, drop path 0.1, 100 epochs,
# RandAugment, Mixup/CutMix, label smoothing. Normalisation as in pretraining.
_base_ = 'mmpretrain::beit/benchmarks/beit-base-p16_8xb128-coslr-100e_in1k.py'
custom_imports = dict(imports=['mim_agnostic'], allow_failed_imports=False)

pretrained = 'vit-base_a2mim.pth'  # or --cfg-options model.backbone.init_cfg.checkpoint=PATH
data_preprocessor = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
model = dict(backbone=dict(
    use_abs_pos_emb=True,
    use_rel_pos_bias=True,
    layer_scale_init_value=0.1,
    init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=pretrained)))
