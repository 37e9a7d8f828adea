# ImageNet fine-tuning of the A²MIM ViT-S/16 (768-d x 8 layers), as the ViT-B recipe.
_base_ = './vit-base-p16_a2mim-ft_8xb128-100e_in1k.py'

pretrained = 'vit-small_a2mim.pth'
model = dict(backbone=dict(arch='small', init_cfg=dict(checkpoint=pretrained)))
