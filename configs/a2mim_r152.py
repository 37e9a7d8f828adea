# A²MIM ResNet-152, 300 epochs: focal-L1 only (the reference sets the Fourier weight to 0).
_base_ = './a2mim_r50.py'

model = dict(backbone=dict(depth=152), head=dict(fft_weight=0.0))
