# SimMIM Swin-B 100-epoch recipe (batch 2048): mixed precision, AdamW lr 8e-4
# (2e-4 x 2048/512), wd 0.05 (none on norms, biases, position and relative position
# tables), gradient norm clipped at 5, 10 warmup epochs from 1e-6 x 2048/512, cosine to
# 1e-5 x 2048/512 = 4e-5.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='AdamW', lr=8e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05,
                   fused=True),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            'absolute_pos_embed': dict(decay_mult=0.0),
            'relative_position_bias_table': dict(decay_mult=0.0),
            'mask_token': dict(decay_mult=0.0),
        }))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / 2e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=90, eta_min=4e-5, by_epoch=True, begin=10, end=100,
         convert_to_iter_based=True),
]

# a resumed run continues mid-epoch at the batch after its checkpoint; seed_per_sample:
# crops, flips and masks come from (seed, epoch, image index) and the model's randomness
# from (seed, iteration), so it ends exactly as an uninterrupted run, whatever the number
# of data workers (False: mmengine's per-worker random streams)
train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=100, seed_per_sample=True)
auto_scale_lr = dict(base_batch_size=2048)
