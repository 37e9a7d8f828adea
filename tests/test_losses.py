"""Loss values against independent numpy computations on small tensors."""
import numpy as np
import pytest
import torch

from mim_agnostic.models.heads import A2MIMHead, replace_visible_pixels
from mim_agnostic.models.losses import (FFTRegressionLoss, FocalFrequencyLoss,
                                        MaskedReconstructionLoss, focal_l1)


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_focal_l1_matches_formula_at_hand_picked_points():
    diff = torch.tensor([0.0, 1.0, -2.0, 5.0])
    expected = [abs(d) * (2 * np_sigmoid(0.2 * abs(d)) - 1) for d in (0.0, 1.0, -2.0, 5.0)]
    # 1 * (2 * sigmoid(0.2) - 1) = 0.0996680; 2 * (2 * sigmoid(0.4) - 1) = 0.3947510
    assert np.allclose(expected[1:3], [0.0996680, 0.3947510], atol=1e-6)
    assert torch.allclose(focal_l1(diff.abs()), torch.tensor(expected, dtype=torch.float32))


def test_focal_l1_modulation_is_not_detached():
    d = torch.tensor([1.5], requires_grad=True)
    focal_l1(d).sum().backward()
    s = np_sigmoid(0.3)
    # d/dd [d * (2 s(0.2 d) - 1)] = (2 s - 1) + d * 2 * 0.2 * s (1 - s)
    expected = (2 * s - 1) + 1.5 * 0.4 * s * (1 - s)
    assert d.grad.item() == pytest.approx(expected, rel=1e-6)


def test_masked_loss_normalises_by_channels_times_masked_pixels():
    pred = torch.zeros(1, 3, 2, 2)
    target = torch.arange(12, dtype=torch.float32).view(1, 3, 2, 2)
    mask = torch.tensor([[[[1., 0.], [0., 1.]]]])
    # masked pixels (0,0) and (1,1): |d| = {0,3}, {4,7}, {8,11} -> sum 33 over 2 px x 3 ch
    loss = MaskedReconstructionLoss(criterion='l1')(pred, target, mask)
    assert loss.item() == pytest.approx(33 / (2 + 1e-5) / 3, rel=1e-6)
    focal = MaskedReconstructionLoss(criterion='focal_l1')(pred, target, mask)
    values = np.array([0, 3, 4, 7, 8, 11], dtype=np.float64)
    expected = (values * (2 * np_sigmoid(0.2 * values) - 1)).sum() / (2 + 1e-5) / 3
    assert focal.item() == pytest.approx(expected, rel=1e-5)


def test_masked_loss_unmask_weight_counts_visible_pixels():
    pred, target = torch.zeros(1, 1, 1, 2), torch.tensor([[[[2., 4.]]]])
    mask = torch.tensor([[[[1., 0.]]]])
    loss = MaskedReconstructionLoss(criterion='l1', unmask_weight=0.5)(pred, target, mask)
    assert loss.item() == pytest.approx((2 + 0.5 * 4) / (1.5 + 1e-5), rel=1e-6)


def numpy_focal_frequency_loss(pred, target):
    """Independent FFL: batch-mean ortho spectra, log-normalised detached weights."""
    fp = np.fft.fft2(pred, norm='ortho').mean(axis=0, keepdims=True)
    ft = np.fft.fft2(target, norm='ortho').mean(axis=0, keepdims=True)
    dist2 = np.abs(fp - ft)**2
    weight = np.log(1 + np.sqrt(dist2))
    weight = np.clip(weight / weight.max(), 0, 1)
    return (weight * dist2).mean()


def test_focal_frequency_loss_matches_numpy():
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=(2, 3, 8, 8)), rng.normal(size=(2, 3, 8, 8))
    loss = FocalFrequencyLoss()(torch.tensor(pred, dtype=torch.float32),
                                torch.tensor(target, dtype=torch.float32))
    assert loss.item() == pytest.approx(numpy_focal_frequency_loss(pred, target), rel=1e-4)


def test_focal_frequency_loss_of_a_constant_image():
    # FFT2_ortho of a constant c over HxW is c*sqrt(HW) at DC and 0 elsewhere, so with one
    # non-zero frequency its weight is 1 and the loss is (c*sqrt(HW))^2 / (C*H*W).
    pred, target = torch.full((1, 1, 4, 4), 2.0), torch.zeros(1, 1, 4, 4)
    assert FocalFrequencyLoss()(pred, target).item() == pytest.approx((2 * 4)**2 / 16)


def test_focal_frequency_weights_are_detached():
    torch.manual_seed(0)
    pred = torch.randn(2, 3, 8, 8, requires_grad=True)
    target = torch.randn(2, 3, 8, 8)
    FocalFrequencyLoss()(pred, target).backward()
    # the same loss with W computed beforehand as a constant must give the same gradient
    const_pred = pred.detach().clone().requires_grad_(True)
    diff = (torch.fft.fft2(const_pred, norm='ortho').mean(0) -
            torch.fft.fft2(target, norm='ortho').mean(0))
    dist2 = diff.real**2 + diff.imag**2
    weight = torch.log1p(dist2.detach().sqrt())
    (weight / weight.max() * dist2).mean().backward()
    assert torch.allclose(pred.grad, const_pred.grad, atol=1e-7)


def test_fft_regression_loss_is_per_sample_focal_l1_on_spectra():
    rng = np.random.default_rng(1)
    pred, target = rng.normal(size=(2, 3, 4, 4)), rng.normal(size=(2, 3, 4, 4))
    d = np.abs(np.fft.fft2(pred, norm='ortho') - np.fft.fft2(target, norm='ortho'))
    expected = (d * (2 * np_sigmoid(0.2 * d) - 1)).mean()
    loss = FFTRegressionLoss(criterion='focal_l1')(torch.tensor(pred, dtype=torch.float32),
                                                   torch.tensor(target, dtype=torch.float32))
    assert loss.item() == pytest.approx(expected, rel=1e-4)


def test_mixed_replacement_blends_visible_pixels_with_detached_prediction():
    pred = torch.tensor([[[[1.0, 3.0]]]], requires_grad=True)
    target = torch.tensor([[[[5.0, 7.0]]]])
    mask = torch.tensor([[[[1.0, 0.0]]]])
    out = replace_visible_pixels(pred, target, mask, 'mixed', unmask_weight=1e-3)
    # masked: pred; visible: 1e-3 * pred + (1 - 1e-3) * (0.5 * sg(pred) + 0.5 * target)
    expected_visible = 1e-3 * 3 + (1 - 1e-3) * (0.5 * 3 + 0.5 * 7)
    assert out[0, 0, 0, 0].item() == pytest.approx(1.0)
    assert out[0, 0, 0, 1].item() == pytest.approx(expected_visible)
    out.sum().backward()
    assert pred.grad.flatten().tolist() == pytest.approx([1.0, 1e-3])


def test_replacement_modes():
    pred = torch.tensor([[[[1.0, 3.0]]]])
    target = torch.tensor([[[[5.0, 7.0]]]])
    mask = torch.tensor([[[[1.0, 0.0]]]])
    visible = {mode: replace_visible_pixels(pred, target, mask, mode, 0.0)[0, 0, 0, 1].item()
               for mode in ('target', 'prediction', 'mean', None)}
    assert visible == {'target': 7.0, 'prediction': 3.0, 'mean': 6.0, None: 3.0}
    with pytest.raises(ValueError, match='fft_unmask_replace'):
        replace_visible_pixels(pred, target, mask, 'zeros', 0.0)


def test_head_logs_both_terms_and_weights_the_fourier_one():
    torch.manual_seed(0)
    head = A2MIMHead(loss=dict(type='MaskedReconstructionLoss', criterion='focal_l1'),
                     fft_loss=dict(type='FocalFrequencyLoss'), fft_weight=0.5,
                     fft_unmask_weight=1e-3)
    pred, target = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32)
    mask = torch.zeros(2, 2, 2, dtype=torch.long)
    mask[:, 0, 1] = 1
    losses = head.loss(pred, target, mask)
    assert set(losses) == {'loss_rec', 'loss_fft'}
    pixel_mask = mask.repeat_interleave(16, 1).repeat_interleave(16, 2)[:, None].float()
    rec = MaskedReconstructionLoss(criterion='focal_l1')(pred, target, pixel_mask)
    fft_in = replace_visible_pixels(pred, target, pixel_mask, 'mixed', 1e-3)
    fft = FocalFrequencyLoss()(fft_in, target)
    assert losses['loss_rec'].item() == pytest.approx(rec.item())
    assert losses['loss_fft'].item() == pytest.approx(0.5 * fft.item())


def test_head_validates_its_config():
    with pytest.raises(ValueError, match='needs an fft_loss'):
        A2MIMHead(loss=dict(type='MaskedReconstructionLoss'), fft_weight=0.1)
    with pytest.raises(ValueError, match='criterion'):
        MaskedReconstructionLoss(criterion='huber')
    head = A2MIMHead(loss=dict(type='MaskedReconstructionLoss'))
    with pytest.raises(ValueError, match='encoder_stride'):
        head.loss(torch.zeros(1, 3, 32, 32), torch.zeros(1, 3, 64, 64),
                  torch.ones(1, 2, 2, dtype=torch.long))
