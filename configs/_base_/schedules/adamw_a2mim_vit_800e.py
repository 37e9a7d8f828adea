# A²MIM ViT recipe (batch 2048): AdamW lr 4e-4, wd 0.05 (none on norms, biases, position
# embeddings, cls/mask tokens, relative position tables and layer scales), 10 warmup epochs
# from lr x 2e-6, lr x 0.1 at epoch 700, 800 epochs, gradient norm clipped at 5.
optim_wrapper = dict(
    # a NaN/Inf loss or gradient stops the run before the update (optim_wrapper.
    # on_non_finite='skip' drops the step instead); AMP configs use AmpOptimWrapper
    type='NonFiniteGuardOptimWrapper',
    optimizer=dict(type='AdamW', lr=4e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05,
                   fused=True),  # one kernel for all parameters (CPU and GPU)
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            'q_bias': dict(decay_mult=0.0),
            'v_bias': dict(decay_mult=0.0),
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
            'mask_token': dict(decay_mult=0.0),
            'relative_position_bias_table': dict(decay_mult=0.0),
            'gamma_1': dict(decay_mult=0.0),
            'gamma_2': dict(decay_mult=0.0),
        }))

param_scheduler = [
    dict(type='LinearLR', start_factor=2e-6, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='MultiStepLR', milestones=[700], gamma=0.1, by_epoch=True, begin=0, end=800,
         convert_to_iter_based=True),
]

# a resumed run continues mid-epoch at the batch after its checkpoint; seed_per_sample:
# crops, flips and masks come from (seed, epoch, image index) and the model's randomness
# from (seed, iteration), so it ends exactly as an uninterrupted run, whatever the number
# of data workers (False: mmengine's per-worker random streams)
train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=800, seed_per_sample=True)
auto_scale_lr = dict(base_batch_size=2048)
