# A²MIM ViT-B/16: BEiT-style encoder (abs + relative position embeddings, layer scale 0.1,
# q/v biases, drop path 0.1), residual token right after the patch embedding (no gamma),
# linear decoder 768 -> 16*16*3 + PixelShuffle(16), L1 + 0.1 * focal frequency loss.
_base_ = './a2mim_data_preprocessor.py'

model = dict(
    type='A2MIM',
    backbone=dict(
        type='MIMViT',
        arch='base',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        use_abs_pos_emb=True,
        use_rel_pos_bias=True,
        mask_layer=0,
        mask_mode='residual'),
    neck=dict(type='PixelShuffleDecoder', in_channels=768, encoder_stride=16),
    head=dict(
        type='A2MIMHead',
        loss=dict(type='MaskedReconstructionLoss', criterion='l1'),
        fft_loss=dict(type='FocalFrequencyLoss', alpha=1.0, ave_spectrum=True,
                      log_matrix=True, batch_matrix=True),
        fft_weight=0.1,
        fft_unmask_weight=0.0,
        fft_unmask_replace='mixed'))
