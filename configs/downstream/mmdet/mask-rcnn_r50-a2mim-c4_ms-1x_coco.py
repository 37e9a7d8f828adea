# Mask R-CNN R50-C4 1x from an A²MIM ResNet-50: stages 1-3 as backbone (stride 16), layer4
# as the RoI shared head, both loaded from the same extracted file; pytorch-style ResNet and
# normalisation (the mmdet C4 base is caffe-style), SyncBN, nothing frozen, multi-scale.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50-caffe-c4_1x_coco.py'
custom_imports = dict(imports=['mim_agnostic'], allow_failed_imports=False)

# or --cfg-options model.backbone.init_cfg.checkpoint=PATH
#                 model.roi_head.shared_head.init_cfg.checkpoint=PATH
pretrained = 'r50_a2mim.pth'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True),
    backbone=dict(
        style='pytorch',
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    roi_head=dict(shared_head=dict(
        style='pytorch',
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained))))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomChoiceResize',
         scales=[(1333, 640), (1333, 672), (1333, 704), (1333, 736), (1333, 768),
                 (1333, 800)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
