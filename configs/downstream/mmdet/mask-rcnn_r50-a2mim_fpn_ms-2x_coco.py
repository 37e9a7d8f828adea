# Mask R-CNN R50-FPN 2x: as 1x, 24 epochs, lr steps at 16 and 23, 1000 warmup iterations.
_base_ = './mask-rcnn_r50-a2mim_fpn_ms-1x_coco.py'

train_cfg = dict(max_epochs=24)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', begin=0, end=24, by_epoch=True, milestones=[16, 23],
         gamma=0.1),
]
