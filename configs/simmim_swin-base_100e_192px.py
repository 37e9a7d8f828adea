# SimMIM Swin-B (window 6), 100 epochs at 192 px, 16 GPUs x 128 (82.7 top-1 after the
# 100-epoch fine-tune at 192 px, 83.5 at 224 px in mmpretrain's reproduction).
_base_ = [
    '_base_/models/simmim_swin-base.py',
    '_base_/datasets/imagenet_simmim_192.py',
    '_base_/schedules/adamw_simmim_swin_100e.py',
    '_base_/default_runtime.py',
]
