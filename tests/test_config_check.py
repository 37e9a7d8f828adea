import pytest
from mmengine.config import Config

from mim_agnostic.models.backbones import MIMConvNeXt, MIMResNet
from mim_agnostic.models.necks import PixelShuffleDecoder
from mim_agnostic.utils.config_check import check_mim_model_against_data
from torch import nn


class Model(nn.Module):
    def __init__(self, backbone, stride):
        super().__init__()
        self.backbone = backbone
        self.neck = PixelShuffleDecoder(8, stride)


def loader(model_patch_size, input_size=224):
    return Config(dict(train_dataloader=dict(dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='BlockMaskGenerator', input_size=input_size, mask_patch_size=32,
             model_patch_size=model_patch_size)]))))


def test_stride_mismatch_names_the_config_key():
    model = Model(MIMConvNeXt(arch='tiny', mask_stage=3), 32)
    with pytest.raises(ValueError, match=r'train_dataloader\.dataset\.pipeline\[1\]\.'
                       r'model_patch_size=16 .*MIMConvNeXt.* stride 32'):
        check_mim_model_against_data(model, loader(16))
    check_mim_model_against_data(model, loader(32))


def test_input_not_a_multiple_of_the_decoder_stride():
    model = Model(MIMResNet(depth=18, mask_stage=3), 32)
    with pytest.raises(ValueError, match='input_size=208 .*encoder_stride=32'):
        check_mim_model_against_data(model, loader(16, 208))
