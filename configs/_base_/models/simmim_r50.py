# SimMIM ResNet-50 (the CNN baseline of the A²MIM paper): masked positions of the stem output
# (stride 4, 64 channels, 56x56 at 224) *replaced* by the token, no pixel fill, L1 on masked
# pixels. Decoder: 1x1 conv 2048 -> 32*32*3 + PixelShuffle(32).
_base_ = './a2mim_r50.py'

model = dict(
    data_preprocessor=dict(mask_fill=None),
    backbone=dict(mask_stage=0, mask_mode='replace', mask_gamma_init=0.0),
    head=dict(_delete_=True, type='A2MIMHead',
              loss=dict(type='MaskedReconstructionLoss', criterion='l1')))
