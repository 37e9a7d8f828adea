# A²MIM ResNet-50, 300 epochs on ImageNet-1k, 8 GPUs x 256 (the paper's flagship CNN:
# 80.4 top-1 after RSB-A2 fine-tuning).  tools/dist_train.sh configs/a2mim_r50.py 8
_base_ = [
    '_base_/models/a2mim_r50.py',
    '_base_/datasets/imagenet_a2mim_224.py',
    '_base_/schedules/adamw_a2mim_cnn_300e.py',
    '_base_/default_runtime.py',
]
# Optimizer: the reference ep300 config's per-parameter lr / wd, quirks included (shortcut BN
# weights and mask_gamma keep wd 0.05, mask_gamma the full lr): see the schedule base and
# `python tools/print_param_groups.py configs/a2mim_r50.py`.
