# The flagship A²MIM ResNet-50 recipe on the generated demo ImageNet, sized for a CPU
# (see _base_/imagenet_cpu_demo.py); BN instead of SyncBN.
_base_ = ['../_base_/models/a2mim_r50.py', './_base_/imagenet_cpu_demo.py']

model = dict(backbone=dict(norm_cfg=dict(type='BN', requires_grad=True)))
