import numpy as np
import pytest

from mim_agnostic.datasets.transforms import BlockMaskGenerator


@pytest.mark.parametrize('model_patch_size,grid', [(16, 14), (32, 7), (4, 56), (8, 28)])
def test_mask_is_at_the_token_grid_with_30_of_49_blocks(model_patch_size, grid):
    generator = BlockMaskGenerator(224, 32, model_patch_size, 0.6)
    results = generator.transform(dict(img=np.zeros((224, 224, 3), np.uint8)))
    mask = results['mask']
    assert mask.shape == (grid, grid) and mask.dtype == np.int64
    scale = grid // 7
    blocks = mask[::scale, ::scale]
    # each 32 px block is constant at the token grid
    assert np.array_equal(np.kron(blocks, np.ones((scale, scale), np.int64)), mask)
    assert blocks.sum() == 30  # ceil(0.6 * 49)


def test_blocks_are_drawn_uniformly():
    np.random.seed(0)
    generator = BlockMaskGenerator(224, 32, 32, 0.6)
    counts = sum(generator.generate_mask() for _ in range(4000))
    frequency = counts / 4000
    assert np.allclose(frequency, 30 / 49, atol=0.04)  # each block masked ~61.2% of the time


def test_non_square_input():
    mask = BlockMaskGenerator((64, 128), 32, 16, 0.5).generate_mask()
    assert mask.shape == (4, 8) and mask[::2, ::2].sum() == 4


def test_bad_configuration_names_the_key():
    with pytest.raises(ValueError, match='input_size=.*mask_patch_size=32'):
        BlockMaskGenerator(225, 32, 16)
    with pytest.raises(ValueError, match='mask_patch_size=32 is not divisible by '
                       'model_patch_size=12'):
        BlockMaskGenerator(224, 32, 12)
    with pytest.raises(ValueError, match='mask_ratio'):
        BlockMaskGenerator(224, 32, 16, 1.2)


def test_image_of_the_wrong_size_is_reported_with_its_path():
    generator = BlockMaskGenerator(224, 32, 16)
    with pytest.raises(ValueError, match='a.jpg is 100x224 but input_size is 224x224'):
        generator.transform(dict(img=np.zeros((100, 224, 3), np.uint8), img_path='a.jpg'))
