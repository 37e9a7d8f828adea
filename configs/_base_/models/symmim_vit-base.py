# SymMIM ViT-B/16: SimMIM's ViT-B reconstruction path (token replacing masked patch tokens
# after the patch embedding, no pixel fill, linear decoder, L1 on masked pixels) + MoCo v3's
# ViT contrastive pieces: 3-layer projector 768 -> 4096 -> 256 on the pooled patch tokens,
# 2-layer predictor, InfoNCE at temperature 0.2 (loss x 2 tau), momentum 0.99 -> 1 (cosine).
_base_ = './simmim_vit-base.py'

model = dict(
    type='SymMIM',
    projector=dict(type='NonLinearNeck', in_channels=768, hid_channels=4096, out_channels=256,
                   num_layers=3, with_bias=False, with_last_bn=True, with_last_bn_affine=False,
                   with_last_bias=False, with_avg_pool=True,
                   norm_cfg=dict(type='SyncBN', requires_grad=True)),
    contrast_head=dict(
        type='MoCoV3Head',
        predictor=dict(type='NonLinearNeck', in_channels=256, hid_channels=4096,
                       out_channels=256, num_layers=2, with_bias=False, with_last_bn=True,
                       with_last_bn_affine=False, with_last_bias=False, with_avg_pool=False,
                       norm_cfg=dict(type='SyncBN', requires_grad=True)),
        loss=dict(type='CrossEntropyLoss', loss_weight=2 * 0.2),
        temperature=0.2),
    momentum=0.01,
    end_momentum=0.0,
    contrast_weight=1.0)
