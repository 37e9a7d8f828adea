# A²MIM on mmpretrain's own Swin-T, no new backbone code: AnyMIMBackbone adds the residual
# token at the input of stage 3 ('stages.2': stride 16, 14x14 tokens of 384 dims at 224),
# on mean-filled pixels; the target is the clean crop (the reference's Swin configs
# reconstructed the filled input instead). Decoder 768 -> 32*32*3 + PixelShuffle(32);
# L1 + 0.1 x focal frequency loss as for ViTs; SimMIM's 100-epoch Swin schedule at 224 px.
_base_ = [
    '_base_/models/a2mim_data_preprocessor.py',
    '_base_/datasets/imagenet_a2mim_224_vit.py',
    '_base_/schedules/adamw_simmim_swin_100e.py',
    '_base_/default_runtime.py',
]

model = dict(
    type='A2MIM',
    backbone=dict(
        type='AnyMIMBackbone',
        backbone=dict(type='SwinTransformer', arch='tiny', img_size=224, drop_path_rate=0.1,
                      out_indices=(3, ), pad_small_map=True),  # maps < 7x7 below 224 px
        mask_at='stages.2',
        mask_mode='residual'),
    neck=dict(type='PixelShuffleDecoder', in_channels=768, encoder_stride=32),
    head=dict(
        type='A2MIMHead',
        loss=dict(type='MaskedReconstructionLoss', criterion='l1'),
        fft_loss=dict(type='FocalFrequencyLoss', alpha=1.0, ave_spectrum=True,
                      log_matrix=True, batch_matrix=True),
        fft_weight=0.1,
        fft_unmask_weight=0.0,
        fft_unmask_replace='mixed'))
