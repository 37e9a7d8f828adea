# Linear probing of an A²MIM ViT-B/16: frozen encoder, BN-free linear head on the mean of
# the patch tokens after the final LN, SGD lr 12 (batch 1024, MoCo v3 protocol), 90 epochs.
_base_ = 'mmpretrain::mocov3/benchmarks/vit-base-p16_8xb128-linear-coslr-90e_in1k.py'
custom_imports = dict(imports=['mim_agnostic'], allow_failed_imports=False)

pretrained = 'vit-base_a2mim.pth'  # or --cfg-options model.backbone.init_cfg.checkpoint=PATH
model = dict(
    backbone=dict(
        _delete_=True,
        type='BEiTViT',
        arch='base',
        img_size=224,
        patch_size=16,
        use_abs_pos_emb=True,
        use_rel_pos_bias=True,
        layer_scale_init_value=0.1,
        frozen_stages=12,
        out_type='avg_featmap',
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    head=dict(_delete_=True, type='LinearClsHead', num_classes=1000, in_channels=768,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
              init_cfg=dict(type='Normal', std=0.01, layer='Linear')))
