# SymMIM ResNet-50 on the generated demo ImageNet, sized for a CPU: the two symmetric
# checkerboards (16 px cells for the online encoder, 32 px for the momentum encoder, 8x8 grid
# at the layer4 input, random phase) and the momentum-contrastive term; BN, 1024-wide MLPs.
_base_ = ['../_base_/models/symmim_r50.py', './_base_/imagenet_cpu_demo.py']

input_size = 128
bn = dict(type='BN', requires_grad=True)
bn1d = dict(type='BN1d', requires_grad=True)  # the MLPs see (B, C) vectors
model = dict(
    backbone=dict(norm_cfg=bn),
    projector=dict(norm_cfg=bn1d, hid_channels=1024),
    contrast_head=dict(predictor=dict(norm_cfg=bn1d, hid_channels=1024)))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=input_size, crop_ratio_range=(0.8, 1.0),
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='CheckerboardMaskGenerator', input_size=input_size, mask_patch_size=16,
         model_patch_size=16, momentum_scale=2, random_phase=True),
    dict(type='PackInputs', algorithm_keys=('momentum_mask', )),
]))
# SymMIM has no reference CNN config: its own rules (mmengine's), not the A²MIM ep300 regexes
# of the schedule base: no decay on any norm (projector and predictor BNs included) or bias;
# token and gamma at lr x 0.1, no decay
optim_wrapper = dict(
    constructor='DefaultOptimWrapperConstructor',
    paramwise_cfg=dict(
        _delete_=True,
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            'mask_token': dict(lr_mult=0.1, decay_mult=0.0),
            'mask_gamma': dict(lr_mult=0.1, decay_mult=0.0),
        }))
