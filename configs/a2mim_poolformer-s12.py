# A²MIM on mmpretrain's PoolFormer-S12 (a MetaFormer the A²MIM reference never had), no new
# backbone code: AnyMIMBackbone adds the residual token + gain gamma (1e-6) at the input of
# stage 3 ('network.4': stride 16, 14x14 x 320 at 224), as at ResNet's layer4 input.
# Decoder 512 -> 32*32*3 + PixelShuffle(32); the ResNet-50 loss and 300-epoch recipe.
_base_ = [
    '_base_/models/a2mim_data_preprocessor.py',
    '_base_/datasets/imagenet_a2mim_224.py',
    '_base_/schedules/adamw_a2mim_cnn_300e.py',
    '_base_/default_runtime.py',
]

model = dict(
    type='A2MIM',
    backbone=dict(
        type='AnyMIMBackbone',
        # frozen_stages=-1: mmpretrain's default 0 freezes the patch embedding (the stem)
        backbone=dict(type='PoolFormer', arch='s12', out_indices=(6, ), frozen_stages=-1),
        mask_at='network.4',
        mask_mode='residual',
        mask_gamma_init=1e-6),
    neck=dict(type='PixelShuffleDecoder', in_channels=512, encoder_stride=32),
    head=dict(
        type='A2MIMHead',
        loss=dict(type='MaskedReconstructionLoss', criterion='focal_l1', alpha=0.2, gamma=1.0),
        fft_loss=dict(type='FocalFrequencyLoss', alpha=1.0, ave_spectrum=True,
                      log_matrix=True, batch_matrix=True),
        fft_weight=0.5,
        fft_unmask_weight=1e-3,
        fft_unmask_replace='mixed'))
# No reference config: mmengine's rules, not the ResNet regexes of the schedule base (which
# would miss PoolFormer's GroupNorms 'norm1'/'norm2'): no decay on any norm, bias or per-channel
# layer scale; token and gamma at lr x 0.1, no decay
optim_wrapper = dict(
    constructor='DefaultOptimWrapperConstructor',
    paramwise_cfg=dict(
        _delete_=True,
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            'mask_token': dict(lr_mult=0.1, decay_mult=0.0),
            'mask_gamma': dict(lr_mult=0.1, decay_mult=0.0),
            'layer_scale': dict(decay_mult=0.0),
        }))
