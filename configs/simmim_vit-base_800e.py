# SimMIM ViT-B/16, 800 epochs, 8 GPUs x 128 x 2 accumulation steps = 2048 (83.8 top-1 after
# fine-tuning in the paper).
_base_ = [
    '_base_/models/simmim_vit-base.py',
    '_base_/datasets/imagenet_a2mim_224_vit.py',
    '_base_/schedules/adamw_simmim_vit_800e.py',
    '_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=128)
optim_wrapper = dict(accumulative_counts=2)
