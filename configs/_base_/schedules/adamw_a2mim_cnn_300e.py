# A²MIM CNN recipe (batch 2048): AdamW lr 1.2e-3, wd 0.05 (none on norms, biases, mask token
# and gamma; token and gamma at lr x 0.1), 10 warmup epochs from ~0, cosine to 1e-5, 300 epochs.
optim_wrapper = dict(
    # a NaN/Inf loss or gradient stops the run before the update (optim_wrapper.
    # on_non_finite='skip' drops the step instead); AMP configs use AmpOptimWrapper
    type='NonFiniteGuardOptimWrapper',
    optimizer=dict(type='AdamW', lr=1.2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05,
                   fused=True),  # one kernel for all parameters (CPU and GPU)
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            'mask_token': dict(lr_mult=0.1, decay_mult=0.0),
            'mask_gamma': dict(lr_mult=0.1, decay_mult=0.0),
        }))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=290, eta_min=1e-5, by_epoch=True, begin=10, end=300,
         convert_to_iter_based=True),
]

# a resumed run continues mid-epoch at the batch after its checkpoint; seed_per_sample:
# crops, flips and masks come from (seed, epoch, image index) and the model's randomness
# from (seed, iteration), so it ends exactly as an uninterrupted run, whatever the number
# of data workers (False: mmengine's per-worker random streams)
train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=300, seed_per_sample=True)
# lr above is for 8 GPUs x 256; --auto-scale-lr rescales it linearly to the real batch
auto_scale_lr = dict(base_batch_size=2048)
