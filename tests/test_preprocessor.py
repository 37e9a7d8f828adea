import torch
from mmpretrain.structures import DataSample

from mim_agnostic.models.data_preprocessors import MaskedImageDataPreprocessor


def make_batch(images, masks):
    samples = []
    for mask in masks:
        sample = DataSample()
        sample.set_mask(mask)
        samples.append(sample)
    return dict(inputs=images, data_samples=samples)


def test_mean_fill_paints_masked_blocks_with_each_images_own_mean():
    torch.manual_seed(0)
    images = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    masks = [torch.tensor([[1, 0], [0, 0]]), torch.tensor([[0, 0], [1, 1]])]
    preprocessor = MaskedImageDataPreprocessor(mean=[10., 20., 30.], std=[2., 4., 5.])
    batch = make_batch(images, masks)
    output = preprocessor(batch)
    encoder_input, target, mask = output['inputs']
    assert torch.equal(mask, torch.stack(masks))  # the batch of token masks, one tensor
    assert output['data_samples'] is batch['data_samples']  # passed on untouched
    normalised = (images.float() - torch.tensor([10., 20., 30.]).view(3, 1, 1)) / \
        torch.tensor([2., 4., 5.]).view(3, 1, 1)
    assert torch.allclose(target, normalised)
    for b, mask in enumerate(masks):
        pixel_mask = mask.repeat_interleave(4, 0).repeat_interleave(4, 1).bool()
        channel_mean = normalised[b].mean(dim=(1, 2))  # over all pixels, masked ones included
        for c in range(3):
            assert torch.allclose(encoder_input[b, c][pixel_mask],
                                  channel_mean[c].expand(int(pixel_mask.sum())))
            assert torch.equal(encoder_input[b, c][~pixel_mask], normalised[b, c][~pixel_mask])


def test_no_fill_returns_the_same_image_twice_and_no_mask_returns_a_tensor():
    images = torch.randint(0, 256, (1, 3, 4, 4), dtype=torch.uint8)
    preprocessor = MaskedImageDataPreprocessor(mask_fill=None, mean=[0.] * 3, std=[1.] * 3)
    encoder_input, target, _ = preprocessor(make_batch(images, [torch.ones(2, 2)]))['inputs']
    assert encoder_input is target
    plain = preprocessor(dict(inputs=images, data_samples=[DataSample()]))['inputs']
    assert isinstance(plain, torch.Tensor) and plain.shape == (1, 3, 4, 4)
