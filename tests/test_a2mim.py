"""The A2MIM algorithm wires preprocessor, backbone, decoder and head as the reference."""
import torch
from mmpretrain.structures import DataSample

from mim_agnostic.models.necks import PixelShuffleDecoder
from mim_agnostic.registry import MODELS


def tiny_a2mim():
    return MODELS.build(dict(
        type='A2MIM',
        data_preprocessor=dict(type='MaskedImageDataPreprocessor', mean=[127.5] * 3,
                               std=[64.0] * 3),
        backbone=dict(type='MIMResNet', depth=18, mask_stage=3, mask_gamma_init=1e-6),
        neck=dict(type='PixelShuffleDecoder', in_channels=512, encoder_stride=32),
        head=dict(type='A2MIMHead', loss=dict(type='MaskedReconstructionLoss'),
                  fft_loss=dict(type='FocalFrequencyLoss'), fft_weight=0.5,
                  fft_unmask_weight=1e-3)))


def batch(size=64):
    torch.manual_seed(0)
    samples = []
    for _ in range(2):
        sample = DataSample()
        sample.set_mask((torch.rand(size // 32, size // 32) > 0.5).long()
                        .repeat_interleave(2, 0).repeat_interleave(2, 1))
        samples.append(sample)
    return dict(inputs=torch.randint(0, 256, (2, 3, size, size), dtype=torch.uint8),
                data_samples=samples)


def test_loss_is_the_head_loss_of_the_reconstruction_of_the_filled_image():
    model = tiny_a2mim()
    model.eval()
    data = model.data_preprocessor(batch(), training=True)
    encoder_input, target, _ = data['inputs']
    losses = model(**data, mode='loss')
    mask = torch.stack([s.mask for s in data['data_samples']])
    pred = model.neck(model.backbone(encoder_input, mask))
    assert pred.shape == target.shape == (2, 3, 64, 64)
    expected = model.head.loss(pred, target, mask)
    assert set(losses) == {'loss_rec', 'loss_fft'}
    for key in losses:
        assert torch.allclose(losses[key], expected[key])


def test_tensor_mode_is_the_plain_backbone_on_the_clean_image_and_predict_adds_fields():
    model = tiny_a2mim()
    model.eval()
    data = model.data_preprocessor(batch(), training=False)
    with torch.no_grad():
        feats = model(**data, mode='tensor')
        plain = model.backbone(data['inputs'][1])
        samples = model(**data, mode='predict')
    assert torch.equal(feats[0], plain[0]) and feats[0].shape == (2, 512, 2, 2)
    assert samples[0].pred_pixel.shape == (3, 64, 64)
    assert torch.equal(samples[0].masked_input, data['inputs'][0][0])


def test_pixel_shuffle_decoder_shapes_and_layout():
    decoder = PixelShuffleDecoder(in_channels=2048, encoder_stride=32)
    decoder.init_weights()
    assert decoder(torch.randn(1, 2048, 7, 7)).shape == (1, 3, 224, 224)
    assert decoder.predictor.weight.std().item() < 0.03  # trunc-normal std 0.02 init
    # channel c*s*s + i*s + j of the prediction lands on pixel (i, j) of colour c
    identity = PixelShuffleDecoder(in_channels=12, encoder_stride=2)
    with torch.no_grad():
        identity.predictor.weight.copy_(torch.eye(12).view(12, 12, 1, 1))
        identity.predictor.bias.zero_()
    x = torch.arange(12.).view(1, 12, 1, 1)
    assert identity(x)[0, 1].flatten().tolist() == [4., 5., 6., 7.]
    mlp = PixelShuffleDecoder(in_channels=384, encoder_stride=16, num_conv_layers=1)
    assert [type(m).__name__ for m in mlp.decoder] == ['Conv2d', 'LayerNorm2d', 'GELU']
    assert mlp.decoder[0].groups == 384 and mlp.decoder[0].kernel_size == (5, 5)
    assert mlp(torch.randn(1, 384, 12, 12)).shape == (1, 3, 192, 192)
