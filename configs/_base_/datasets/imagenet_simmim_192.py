# SimMIM Swin data: RandomResizedCrop 192 (scale 0.67-1), flip, 32 px blocks at ratio 0.6
# (22 of 36) given at the 48x48 token grid of the 4x4 patch embedding.
_base_ = './imagenet_a2mim_224.py'

train_dataloader = dict(batch_size=128, dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=192, crop_ratio_range=(0.67, 1.0),
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='BlockMaskGenerator', input_size=192, mask_patch_size=32, model_patch_size=4,
         mask_ratio=0.6),
    dict(type='PackInputs'),
]))
