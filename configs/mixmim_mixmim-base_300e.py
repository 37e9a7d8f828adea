# MixMIM-B, 300 epochs, 16 GPUs x 128 (84.6 top-1 after mmpretrain's 100-epoch fine-tune):
# mmpretrain's MixMIM (one 7x7 mask per batch at ratio 0.5; masked tokens of image i
# replaced by image B-1-i's after the patch embedding, attention restricted to tokens of the
# same source; an 8-block decoder reconstructs both images, MSE on normalised 32 px patches)
# in the toolkit's runtime. Masking happens inside the model: no mask transform.
_base_ = [
    '_base_/datasets/imagenet_a2mim_224.py',
    '_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=128, dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0), backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]))

model = dict(
    type='MixMIM',
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True),
    backbone=dict(type='MixMIMPretrainTransformer', arch='B', drop_rate=0.0,
                  drop_path_rate=0.0, mask_ratio=0.5),
    neck=dict(type='MixMIMPretrainDecoder', num_patches=49, encoder_stride=32, embed_dim=1024,
              decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16),
    head=dict(type='MixMIMPretrainHead', norm_pix=True,
              loss=dict(type='PixelReconstructionLoss', criterion='L2')))

# AdamW lr 1.5e-4 x 2048/256, betas (0.9, 0.95), wd 0.05 (none on LayerNorms ``ln*`` and
# biases, as mmpretrain), 40 warmup epochs, cosine over 260
optim_wrapper = dict(
    type='NonFiniteGuardOptimWrapper',
    optimizer=dict(type='AdamW', lr=1.5e-4 * 2048 / 256, betas=(0.9, 0.95), weight_decay=0.05,
                   fused=True),
    paramwise_cfg=dict(custom_keys={'ln': dict(decay_mult=0.0),
                                    'bias': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=40,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=260, by_epoch=True, begin=40, end=300,
         convert_to_iter_based=True),
]
# a resumed run continues mid-epoch at the batch after its checkpoint; seed_per_sample:
# crops, flips and masks come from (seed, epoch, image index) and the model's randomness
# from (seed, iteration), so it ends exactly as an uninterrupted run, whatever the number
# of data workers (False: mmengine's per-worker random streams)
train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=300, seed_per_sample=True)
auto_scale_lr = dict(base_batch_size=2048)
randomness = dict(seed=0, diff_rank_seed=True)
custom_hooks = []  # MixMIM reconstructs normalised patches: no picture hook
