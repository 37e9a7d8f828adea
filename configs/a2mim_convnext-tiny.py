# A²MIM ConvNeXt-T, 300 epochs, 8 GPUs x 256, mixed precision; focal-L1 only.
_base_ = [
    '_base_/models/a2mim_convnext-tiny.py',
    '_base_/datasets/imagenet_a2mim_224_stride32.py',
    '_base_/schedules/adamw_a2mim_cnn_300e.py',
    '_base_/default_runtime.py',
]

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    paramwise_cfg=dict(custom_keys={'gamma': dict(decay_mult=0.0)}))  # block layer scales
