# The A²MIM ResNet-50 CPU demo with the researcher's own mask generator and loss: the only
# new lines are custom_imports, the mask generator in the pipeline and the head's loss.
_base_ = ['mim_agnostic::demo/a2mim_r50_demo.py']
custom_imports = dict(imports=['my_mim_ext'], allow_failed_imports=False)

input_size = 128
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=input_size, crop_ratio_range=(0.8, 1.0),
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='StripeMaskGenerator', input_size=input_size, mask_patch_size=32,
         model_patch_size=16, mask_ratio=0.5),
    dict(type='PackInputs'),
]))
model = dict(head=dict(loss=dict(_delete_=True, type='MaskedCharbonnierLoss', eps=1e-3)))
