# A²MIM ResNet-101, 300 epochs: focal-L1 + 0.1 x per-sample FFT focal-L1 (non-focal
# frequency variant), u_f 1e-3.
_base_ = './a2mim_r50.py'

model = dict(
    backbone=dict(depth=101),
    head=dict(
        fft_loss=dict(_delete_=True, type='FFTRegressionLoss', criterion='focal_l1',
                      alpha=0.2, gamma=1.0),
        fft_weight=0.1))
