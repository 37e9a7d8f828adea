# A²MIM CNN recipe (batch 2048): AdamW lr 1.2e-3, wd 0.05, 10 warmup epochs from ~0, cosine
# to 1e-5, 300 epochs. Per-parameter lr / wd: the reference ep300 ResNet configs'
# paramwise_options (openmixup configs/selfsup/a2mim/imagenet/r{50,101,152,200}_l3_sz224_init_
# 8xb256_cos_ep300.py), regexes on parameter names, later matches override earlier ones.
# Their two quirks are kept on purpose, since they are the recipe behind the reported results
# (R50: 80.4 top-1):
# - the norm regex needs bn/ln/gn + optional digits before .weight: BN weights of the stem and
#   of bn1-3 get no decay, but the shortcut BNs (layer*.0.downsample.1.weight) keep wd 0.05
#   (their biases get none through 'bias');
# - mask_gamma is in no rule: full lr and wd 0.05 (the ep100 config, a2mim_r50_100e.py, lists
#   it with lr x 0.1 and wd 0).
# tools/print_param_groups.py CONFIG prints the resulting lr / wd of every parameter.
optim_wrapper = dict(
    # a NaN/Inf loss or gradient stops the run before the update (optim_wrapper.
    # on_non_finite='skip' drops the step instead); AMP configs use AmpOptimWrapper
    type='NonFiniteGuardOptimWrapper',
    optimizer=dict(type='AdamW', lr=1.2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05,
                   fused=True),  # one kernel for all parameters (CPU and GPU)
    constructor='RegexParamwiseOptimWrapperConstructor',
    paramwise_cfg=dict(rules=[
        (r'(bn|ln|gn)(\d+)?.(weight|bias)', dict(weight_decay=0.)),
        ('bias', dict(weight_decay=0.)),
        ('mask_token', dict(weight_decay=0., lr_mult=0.1)),
    ]))

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
