# ConvNeXt recipe: the token goes in at stage 4 (stride 32), so masks come at 7x7.
_base_ = './imagenet_a2mim_224.py'

train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.8, 1.0),
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='BlockMaskGenerator', input_size=224, mask_patch_size=32, model_patch_size=32,
         mask_ratio=0.6),
    dict(type='PackInputs'),
]))
