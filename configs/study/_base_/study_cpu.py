# Everything but the model and the budget for the CPU evaluation study (tools/study/) on the
# generated study ImageNet (tools/study/make_study_data.py, 32 classes, 4800 train images of
# 72 px): 64 px crops, batch 32, iteration-based training ending in one checkpoint. Each
# study config sets its iteration count (calibrated to the same compute per run: ~150
# CPU-seconds on one thread of the 2-core machine) and the matching warmup + cosine schedule.
_base_ = '../../demo/_base_/imagenet_cpu_demo.py'

data_root = 'data/study'
input_size = 64

train_dataloader = dict(batch_size=32, num_workers=1, persistent_workers=True,
                        dataset=dict(data_root=data_root))
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop')
auto_scale_lr = dict(base_batch_size=32)

default_hooks = dict(
    logger=dict(interval=25),
    # only the last checkpoint (save_last), which the study evaluates
    checkpoint=dict(by_epoch=False, interval=100000, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
custom_hooks = []
randomness = dict(seed=0)
