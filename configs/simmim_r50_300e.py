# SimMIM ResNet-50, 300 epochs, 8 GPUs x 256: the A²MIM CNN recipe with the token replacing
# the stem output at masked positions (masks at the 56x56 grid of stride 4), no mean fill.
_base_ = [
    '_base_/models/simmim_r50.py',
    '_base_/datasets/imagenet_a2mim_224.py',
    '_base_/schedules/adamw_a2mim_cnn_300e.py',
    '_base_/default_runtime.py',
]

train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.8, 1.0),
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='BlockMaskGenerator', input_size=224, mask_patch_size=32, model_patch_size=4,
         mask_ratio=0.6),
    dict(type='PackInputs'),
]))
# the reference SimMIM-ResNet config's paramwise_options (openmixup configs/selfsup/simmim/
# imagenet/r50_sz224_8xb256_fp16_ep300.py): the A²MIM ep300 rules with the token at the full
# lr (no lr x 0.1), still without weight decay
optim_wrapper = dict(paramwise_cfg=dict(rules=[
    (r'(bn|ln|gn)(\d+)?.(weight|bias)', dict(weight_decay=0.)),
    ('bias', dict(weight_decay=0.)),
    ('mask_token', dict(weight_decay=0.)),
]))
