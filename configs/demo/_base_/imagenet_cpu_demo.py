# Everything but the model for the CPU demos on the generated demo ImageNet
# (tools/make_demo_data.py): 128 px crops (4x4 blocks of 32 px, 10 masked; 8x8 token grid at
# stride 16), batch 16, the CNN AdamW recipe shortened to 20 epochs of 8 iterations.
_base_ = [
    '../../_base_/datasets/imagenet_a2mim_224.py',
    '../../_base_/schedules/adamw_a2mim_cnn_300e.py',
    '../../_base_/default_runtime.py',
]

data_root = 'data/demo/imagenet'
input_size = 128

train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=False,
    pin_memory=False,
    dataset=dict(
        data_root=data_root,
        pipeline=[
            dict(type='CheckedLoadImageFromFile'),
            dict(type='RandomResizedCrop', scale=input_size, crop_ratio_range=(0.8, 1.0),
                 backend='pillow', interpolation='bilinear'),
            dict(type='RandomFlip', prob=0.5),
            dict(type='BlockMaskGenerator', input_size=input_size, mask_patch_size=32,
                 model_patch_size=16, mask_ratio=0.6),
            dict(type='PackInputs'),
        ]))

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=18, eta_min=1e-5, by_epoch=True, begin=2, end=20,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=20)
auto_scale_lr = dict(base_batch_size=16)

default_hooks = dict(
    logger=dict(interval=4),
    checkpoint=dict(interval=5, max_keep_ckpts=2))
custom_hooks = [dict(type='ReconstructionVisualizationHook', interval=40, num_images=4)]
randomness = dict(seed=0)
