# SimMIM ViT recipe (batch 2048): the A²MIM ViT recipe (the same: AdamW lr 4e-4 = 1e-4 x
# 2048/512, wd 0.05, clip 5, lr x 0.1 at epoch 700, 800 epochs) warming up from 5e-7 x
# 2048/512 as SimMIM does.
_base_ = './adamw_a2mim_vit_800e.py'

param_scheduler = [
    dict(type='LinearLR', start_factor=5e-7 / 1e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='MultiStepLR', milestones=[700], gamma=0.1, by_epoch=True, begin=0, end=800,
         convert_to_iter_based=True),
]
