# SymMIM ViT-B/16, 800 epochs, 8 GPUs x 128 x 2 accumulation steps = 2048, on the SimMIM
# ViT-B recipe (AdamW lr 4e-4, wd 0.05, clip 5, lr x 0.1 at epoch 700), so the two methods
# differ by the masks and the contrastive term only.
_base_ = [
    '_base_/models/symmim_vit-base.py',
    '_base_/datasets/imagenet_symmim_224.py',
    '_base_/schedules/adamw_a2mim_vit_800e.py',
    '_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=128)
optim_wrapper = dict(accumulative_counts=2)
param_scheduler = [
    dict(type='LinearLR', start_factor=5e-7 / 1e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='MultiStepLR', milestones=[700], gamma=0.1, by_epoch=True, begin=0, end=800,
         convert_to_iter_based=True),
]
