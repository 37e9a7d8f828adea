# A²MIM ConvNeXt-T: token + gamma (1e-6) after the 4th downsample (768 ch, 7x7), linear
# decoder 768 -> 32*32*3 + PixelShuffle(32), focal-L1 only (the reference configs set the
# Fourier weight to 0 for ConvNeXt).
_base_ = './a2mim_data_preprocessor.py'

model = dict(
    type='A2MIM',
    backbone=dict(
        type='MIMConvNeXt',
        arch='tiny',
        out_indices=(3, ),
        drop_path_rate=0.0,
        gap_before_final_norm=False,
        mask_stage=3,
        mask_mode='residual',
        mask_gamma_init=1e-6),
    neck=dict(type='PixelShuffleDecoder', in_channels=768, encoder_stride=32),
    head=dict(
        type='A2MIMHead',
        loss=dict(type='MaskedReconstructionLoss', criterion='focal_l1', alpha=0.2, gamma=1.0),
        fft_weight=0.0))
