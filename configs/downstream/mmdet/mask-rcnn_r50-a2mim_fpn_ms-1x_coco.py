# Mask R-CNN R50-FPN 1x on COCO from an A²MIM ResNet-50 (the reference protocol, in mmdet 3
# syntax): SyncBN everywhere, nothing frozen, BN in train mode, Shared4Conv1FC box head,
# multi-scale training (short side 640-800), SGD lr 0.02 (batch 16), 12 epochs.
#   python tools/extract_backbone.py work_dirs/a2mim_r50/epoch_300.pth r50_a2mim.pth --to mmdet
#   tools/dist_train.sh configs/downstream/mmdet/mask-rcnn_r50-a2mim_fpn_ms-1x_coco.py 8
#   tools/dist_test.sh configs/downstream/mmdet/mask-rcnn_r50-a2mim_fpn_ms-1x_coco.py work_dirs/.../epoch_12.pth 8
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['mim_agnostic'], allow_failed_imports=False)

pretrained = 'r50_a2mim.pth'  # or --cfg-options model.backbone.init_cfg.checkpoint=PATH
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', conv_out_channels=256,
                       norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))

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
