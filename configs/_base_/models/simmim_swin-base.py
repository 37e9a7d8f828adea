# SimMIM Swin-B, window 6, 192 px: mmpretrain's SimMIMSwinTransformer (token blended into the
# masked tokens after the 4x4 patch embedding, i.e. replaced) with the toolkit's decoder,
# head and preprocessor: 1x1 conv 1024 -> 32*32*3 + PixelShuffle(32), L1 on masked pixels
# divided by 3 x masked pixels (= mmpretrain's PixelReconstructionLoss(channel=3)).
model = dict(
    type='A2MIM',
    data_preprocessor=dict(
        type='MaskedImageDataPreprocessor',
        mask_fill=None,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='SimMIMSwinTransformer',
        arch='base',
        img_size=192,
        stage_cfgs=dict(block_cfgs=dict(window_size=6))),
    neck=dict(type='PixelShuffleDecoder', in_channels=1024, encoder_stride=32),
    head=dict(type='A2MIMHead', loss=dict(type='MaskedReconstructionLoss', criterion='l1')))
