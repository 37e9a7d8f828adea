# SimMIM ViT-B/16, 800 epochs, 8 GPUs x 128 x 2 accumulation steps = 2048 (83.8 top-1 after
# fine-tuning in the paper): the ViT recipe of the A²MIM configs (which is SimMIM's: AdamW
# lr 4e-4, wd 0.05, clip 5, lr x 0.1 at epoch 700) warming up from 5e-7 x 2048/512.
_base_ = [
    '_base_/models/simmim_vit-base.py',
    '_base_/datasets/imagenet_a2mim_224_vit.py',
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
