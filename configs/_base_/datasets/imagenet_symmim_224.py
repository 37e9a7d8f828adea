# SymMIM data: RandomResizedCrop 224 (scale 0.67-1), flip, the two symmetric checkerboards at
# the 14x14 token grid of stride 16: M1 of 16 px cells (one ViT-B/16 patch) for the online
# encoder, M2 of 32 px cells (k = 2) for the momentum encoder.
_base_ = './imagenet_a2mim_224.py'

train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.67, 1.0),
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='CheckerboardMaskGenerator', input_size=224, mask_patch_size=16,
         model_patch_size=16, momentum_scale=2, random_phase=False),
    dict(type='PackInputs', algorithm_keys=('momentum_mask', )),
]))
