# The Mask R-CNN R50-FPN transfer recipe on the generated demo COCO (3 shape categories,
# 256x192 images), sized for a CPU: 4 epochs, batch 2, evaluated with the COCO bbox and segm
# metrics. Pretrained weights: the demo A²MIM run, extracted:
#   python tools/extract_backbone.py work_dirs/a2mim_r50_demo/epoch_20.pth work_dirs/a2mim_r50_demo/r50_a2mim.pth
_base_ = '../../downstream/mmdet/mask-rcnn_r50-a2mim_fpn_ms-1x_coco.py'

pretrained = 'work_dirs/a2mim_r50_demo/r50_a2mim.pth'
data_root = 'data/demo/coco/'
metainfo = dict(classes=('circle', 'square', 'triangle'))
model = dict(
    backbone=dict(init_cfg=dict(checkpoint=pretrained)),
    roi_head=dict(bbox_head=dict(num_classes=3), mask_head=dict(num_classes=3)),
    # keep every scored box: a few CPU iterations give low scores, and COCO AP needs results
    test_cfg=dict(rcnn=dict(score_thr=0.0)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomChoiceResize', scales=[(320, 160), (320, 192), (320, 224)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(320, 192), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=2, num_workers=2, persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=2, num_workers=2, persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=4, val_interval=4)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=10),
    dict(type='MultiStepLR', begin=0, end=4, by_epoch=True, milestones=[3], gamma=0.1),
]
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=1, max_keep_ckpts=2))
randomness = dict(seed=0)
