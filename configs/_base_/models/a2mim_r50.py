# A²MIM ResNet-50: token + gain gamma (1e-6) added at the layer4 input (1024 ch, 14x14),
# linear decoder 2048 -> 32*32*3 + PixelShuffle(32), focal-L1 + 0.5 * focal frequency loss.
_base_ = './a2mim_data_preprocessor.py'

model = dict(
    type='A2MIM',
    backbone=dict(
        type='MIMResNet',
        depth=50,
        out_indices=(3, ),
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        zero_init_residual=True,
        mask_stage=3,
        mask_mode='residual',
        mask_gamma_init=1e-6),
    neck=dict(type='PixelShuffleDecoder', in_channels=2048, encoder_stride=32),
    head=dict(
        type='A2MIMHead',
        loss=dict(type='MaskedReconstructionLoss', criterion='focal_l1', alpha=0.2, gamma=1.0),
        fft_loss=dict(type='FocalFrequencyLoss', alpha=1.0, ave_spectrum=True,
                      log_matrix=True, batch_matrix=True),
        fft_weight=0.5,
        fft_unmask_weight=1e-3,
        fft_unmask_replace='mixed'))
