# UperNet with an A²MIM ViT-B/16 on ADE20K (the reference recipe): the pretraining encoder,
# blocks 4/6/8/12 rescaled to strides 4/8/16/32 (Feature2Pyramid), UPerHead 768 channels,
# auxiliary FCN head, AdamW lr 4e-4, wd 0.05, layer-wise lr decay 0.65, 1500 warmup
# iterations then poly decay, 160k iterations, 512x512 crops, batch 16.
_base_ = 'mmseg::mae/mae-base_upernet_8xb2-amp-160k_ade20k-512x512.py'
custom_imports = dict(imports=['mim_agnostic'], allow_failed_imports=False)

pretrained = 'vit-base_a2mim.pth'  # or --cfg-options model.backbone.init_cfg.checkpoint=PATH
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmpretrain.BEiTViT',
        arch='base',
        img_size=(512, 512),
        patch_size=16,
        drop_path_rate=0.1,
        use_abs_pos_emb=True,
        use_rel_pos_bias=True,
        layer_scale_init_value=0.1,
        out_type='featmap',
        out_indices=(3, 5, 7, 11),
        final_norm=False,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)))

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=4e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='mim_agnostic.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.65,
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
            'relative_position_bias_table': dict(decay_mult=0.0),
            'q_bias': dict(decay_mult=0.0),
            'v_bias': dict(decay_mult=0.0),
            'gamma_1': dict(decay_mult=0.0),
            'gamma_2': dict(decay_mult=0.0),
        }))

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
