# SymMIM ViT-B/16, 800 epochs, 8 GPUs x 128 x 2 accumulation steps = 2048, on the SimMIM
# ViT-B recipe, so the two methods differ by the masks and the contrastive term only.
_base_ = [
    '_base_/models/symmim_vit-base.py',
    '_base_/datasets/imagenet_symmim_224.py',
    '_base_/schedules/adamw_simmim_vit_800e.py',
    '_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=128)
optim_wrapper = dict(accumulative_counts=2)
