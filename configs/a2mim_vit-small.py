# A²MIM ViT-S/16 as in the paper: the mmcls ViT-S (768-d, 8 layers, 8 heads, 48.8 M
# parameters), not DeiT-S; 800 epochs, 8 GPUs x 256, no accumulation.
_base_ = './a2mim_vit-base.py'

model = dict(backbone=dict(arch='small'))
train_dataloader = dict(batch_size=256)
optim_wrapper = dict(accumulative_counts=1)
