# SimMIM ResNet-50 on the generated demo ImageNet, sized for a CPU: token replacing the stem
# output at the 32x32 grid of stride 4, no pixel fill, L1 on masked pixels.
_base_ = ['../_base_/models/simmim_r50.py', './_base_/imagenet_cpu_demo.py']

input_size = 128
model = dict(backbone=dict(norm_cfg=dict(type='BN', requires_grad=True)))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=input_size, crop_ratio_range=(0.8, 1.0),
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='BlockMaskGenerator', input_size=input_size, mask_patch_size=32,
         model_patch_size=4, mask_ratio=0.6),
    dict(type='PackInputs'),
]))
# the token rule of simmim_r50_300e.py (the reference SimMIM-ResNet config): full lr, no decay
optim_wrapper = dict(paramwise_cfg=dict(rules=[
    (r'(bn|ln|gn)(\d+)?.(weight|bias)', dict(weight_decay=0.)),
    ('bias', dict(weight_decay=0.)),
    ('mask_token', dict(weight_decay=0.)),
]))
