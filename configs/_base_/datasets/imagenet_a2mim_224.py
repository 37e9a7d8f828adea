# A²MIM ImageNet pretraining data: RandomResizedCrop 224 (scale 0.8-1, bilinear as
# torchvision), flip, 32 px random block masks at ratio 0.6 (30 of 49 blocks) given at the
# token grid of the insertion stage (stride 16 -> 14x14 here). Normalisation and the mean
# fill of masked blocks run on the device, in the model's data preprocessor.
dataset_type = 'ImageNet'
data_root = 'data/imagenet'
# Pretrain on any folder of images instead (recursive, any layout, no labels): set
# train_data_root = '/path/to/images' here or in a config inheriting this one, or pass
# tools/train.py --data-root /path/to/images. train_dataloader.dataset then becomes an
# UnlabeledImageFolder over that folder with the pipeline below.
train_data_root = None

train_pipeline = [
    # a missing/corrupt/truncated image stops the run naming the file; skip_unreadable=True
    # skips such images instead, counting them in the log
    dict(type='CheckedLoadImageFromFile', skip_unreadable=False),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.8, 1.0),
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='BlockMaskGenerator', input_size=224, mask_patch_size=32, model_patch_size=16,
         mask_ratio=0.6),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    # DefaultSampler's order and sharding; can start an epoch part-way (resume)
    sampler=dict(type='ResumableSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))
