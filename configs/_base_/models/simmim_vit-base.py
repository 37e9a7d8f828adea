# SimMIM ViT-B/16 = the A²MIM ViT-B pieces with SimMIM's three choices: masked patch tokens
# *replaced* by the token right after the patch embedding, no pixel fill, and plain L1 on the
# masked pixels (no Fourier term). Decoder: 1x1 conv 768 -> 16*16*3 + PixelShuffle(16).
_base_ = './a2mim_vit-base.py'

model = dict(
    data_preprocessor=dict(mask_fill=None),
    backbone=dict(mask_layer=0, mask_mode='replace'),
    head=dict(_delete_=True, type='A2MIMHead',
              loss=dict(type='MaskedReconstructionLoss', criterion='l1')))
