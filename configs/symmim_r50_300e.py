# SymMIM ResNet-50, 300 epochs, 8 GPUs x 256, the A²MIM CNN recipe; the same two
# checkerboards as ViT-B/16 (16 px and 32 px cells at the 14x14 layer4-input grid), with a
# random phase per image: layer4's stride-2 1x1 shortcut samples the even positions of that
# grid, which a fixed-phase M1 would always leave visible (phase 0) or always mask.
_base_ = [
    '_base_/models/symmim_r50.py',
    '_base_/datasets/imagenet_symmim_224.py',
    '_base_/schedules/adamw_a2mim_cnn_300e.py',
    '_base_/default_runtime.py',
]

train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.8, 1.0),
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='CheckerboardMaskGenerator', input_size=224, mask_patch_size=16,
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
