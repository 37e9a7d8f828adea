# A²MIM ConvNeXt-B, 300 epochs, 8 GPUs x 256, mixed precision; focal-L1 only.
_base_ = './a2mim_convnext-tiny.py'

model = dict(backbone=dict(arch='base'), neck=dict(in_channels=1024))
