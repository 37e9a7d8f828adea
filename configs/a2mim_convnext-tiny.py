# A²MIM ConvNeXt-T, 300 epochs, 8 GPUs x 256, mixed precision; focal-L1 only.
_base_ = [
    '_base_/models/a2mim_convnext-tiny.py',
    '_base_/datasets/imagenet_a2mim_224_stride32.py',
    '_base_/schedules/adamw_a2mim_cnn_300e.py',
    '_base_/default_runtime.py',
]

# The reference ConvNeXt configs' paramwise_options (convnext_{t,s,b}_l3_sz224_init_8xb256_cos_
# ep300.py), in their order: 'gamma' (block layer scales and mask_gamma) gets no decay, token
# and mask_gamma lr x 0.1. The norm regex matches no ConvNeXt name (its LayerNorms are 'norm',
# 'norm3' and 'downsample_layers.*.{0,1}'), so the reference trains LayerNorm weights with
# wd 0.05 (their biases get none through 'bias'): kept, as in the reference.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    paramwise_cfg=dict(rules=[
        (r'(bn|ln|gn)(\d+)?.(weight|bias)', dict(weight_decay=0.)),
        ('bias', dict(weight_decay=0.)),
        ('gamma', dict(weight_decay=0.)),
        ('mask_token', dict(weight_decay=0., lr_mult=0.1)),
        ('mask_gamma', dict(weight_decay=0., lr_mult=0.1)),
    ]))
