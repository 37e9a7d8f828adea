# A²MIM ResNet-50, 100 epochs (the reference ablation r50_l3_sz224_init_8xb256_cos_ep100.py):
# the flagship model and data, 10 warmup epochs then cosine to 1e-5 over 90, and the ep100
# config's paramwise_options, which add a mask_gamma rule like the mask-token one: token and
# gamma at lr x 0.1 and wd 0 (the 300-epoch flagship leaves gamma at the full lr and wd 0.05).
_base_ = './a2mim_r50.py'

optim_wrapper = dict(paramwise_cfg=dict(rules=[
    (r'(bn|ln|gn)(\d+)?.(weight|bias)', dict(weight_decay=0.)),
    ('bias', dict(weight_decay=0.)),
    ('mask_token', dict(weight_decay=0., lr_mult=0.1)),
    ('mask_gamma', dict(weight_decay=0., lr_mult=0.1)),
]))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=90, eta_min=1e-5, by_epoch=True, begin=10, end=100,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=100)
