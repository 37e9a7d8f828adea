# SymMIM ResNet-50 through the mask-in-middle mechanism (no anchor has it): A²MIM's R50
# reconstruction path (mean fill of masked pixels + residual token and gamma at the layer4
# input, focal-L1 + 0.5 x focal frequency loss) + MoCo v3's ResNet contrastive pieces:
# 2-layer projector 2048 -> 4096 -> 256, 2-layer predictor, temperature 1.0 (loss x 2),
# momentum 0.99 -> 1 (cosine). The momentum encoder sees the crop mean-filled under M2.
_base_ = './a2mim_r50.py'

model = dict(
    type='SymMIM',
    projector=dict(type='NonLinearNeck', in_channels=2048, hid_channels=4096, out_channels=256,
                   num_layers=2, with_bias=False, with_last_bn=True, with_last_bn_affine=False,
                   with_last_bias=False, with_avg_pool=True,
                   norm_cfg=dict(type='SyncBN', requires_grad=True)),
    contrast_head=dict(
        type='MoCoV3Head',
        predictor=dict(type='NonLinearNeck', in_channels=256, hid_channels=4096,
                       out_channels=256, num_layers=2, with_bias=False, with_last_bn=True,
                       with_last_bn_affine=False, with_last_bias=False, with_avg_pool=False,
                       norm_cfg=dict(type='SyncBN', requires_grad=True)),
        loss=dict(type='CrossEntropyLoss', loss_weight=2 * 1.0),
        temperature=1.0),
    momentum=0.01,
    end_momentum=0.0,
    contrast_weight=1.0)
