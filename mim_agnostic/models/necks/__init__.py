from .pixel_shuffle_decoder import PixelShuffleDecoder

__all__ = ['PixelShuffleDecoder']
