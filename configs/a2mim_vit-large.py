# A²MIM ViT-L/16, 800 epochs, 8 GPUs x 128 x 2 accumulation steps = 2048.
_base_ = './a2mim_vit-base.py'

model = dict(backbone=dict(arch='large'), neck=dict(in_channels=1024))
