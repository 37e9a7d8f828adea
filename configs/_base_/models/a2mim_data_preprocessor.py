# Shared by every A²MIM model: ImageNet normalisation (RGB) on the device, then masked
# blocks painted with each image's own mean colour; the clean crop is the target.
model = dict(
    data_preprocessor=dict(
        type='MaskedImageDataPreprocessor',
        mask_fill='mean',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True))
