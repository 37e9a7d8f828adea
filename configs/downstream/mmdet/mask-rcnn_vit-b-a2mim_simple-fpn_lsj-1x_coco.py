# Mask R-CNN with an A²MIM ViT-B/16 through ViTDet's simple feature pyramid (the reference's
# ViT detection config fed four stride-16 maps straight into FPN): the pretraining encoder at
# 1024 px (position tables resized on load), stride-16 map -> strides 4..64, 1024x1024
# large-scale jitter, AdamW lr 1e-4, wd 0.1, layer-wise lr decay 0.7, 12 epochs.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['mim_agnostic'], allow_failed_imports=False)

pretrained = 'vit-base_a2mim.pth'  # or --cfg-options model.backbone.init_cfg.checkpoint=PATH
image_size = (1024, 1024)
model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    backbone=dict(
        _delete_=True,
        type='mmpretrain.BEiTViT',
        arch='base',
        img_size=image_size,
        patch_size=16,
        drop_path_rate=0.1,
        use_abs_pos_emb=True,
        use_rel_pos_bias=True,
        layer_scale_init_value=0.1,
        out_type='featmap',
        out_indices=(11, ),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(_delete_=True, type='mim_agnostic.SimpleFeaturePyramid', in_channels=768,
              out_channels=256, num_outs=5))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomResize', scale=image_size, ratio_range=(0.1, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_type='absolute_range', crop_size=image_size,
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size=image_size, pad_val=dict(img=(114, 114, 114))),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='Pad', size=image_size, pad_val=dict(img=(114, 114, 114))),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1),
    constructor='mim_agnostic.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.7,
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
