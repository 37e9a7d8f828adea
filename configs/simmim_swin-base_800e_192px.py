# SimMIM Swin-B (window 6), 800 epochs at 192 px, 16 GPUs x 128 (83.8 top-1 after the
# 224 px fine-tune): lr 4e-4 (1e-4 x 2048/512), 10 warmup epochs from 5e-7 x 2048/512,
# lr x 0.1 at epoch 700.
_base_ = './simmim_swin-base_100e_192px.py'

optim_wrapper = dict(optimizer=dict(lr=4e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=5e-7 / 1e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='MultiStepLR', milestones=[700], gamma=0.1, by_epoch=True, begin=0, end=800,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=800)
