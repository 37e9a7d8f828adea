# ImageNet fine-tuning of the A²MIM ViT-L/16: layer decay 0.75, drop path 0.2, 50 epochs
# (5 warmup), as the usual ViT-L MIM protocol.
_base_ = './vit-base-p16_a2mim-ft_8xb128-100e_in1k.py'

pretrained = 'vit-large_a2mim.pth'
model = dict(
    backbone=dict(arch='large', drop_path_rate=0.2, init_cfg=dict(checkpoint=pretrained)),
    head=dict(in_channels=1024))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.75))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=5, end=50, eta_min=1e-6,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=50)
