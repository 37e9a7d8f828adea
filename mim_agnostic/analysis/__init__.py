"""Analyses of what a backbone learned, on any registered backbone: the Fourier spectrum of
its feature maps (Park & Kim 2022) and the multi-order interactions of a classifier built on
it (Deng et al. 2022)."""
from .fourier_features import diagonal_profile, fourier_features, mean_log_amplitude
from .interaction_order import (check_request, class_score, image_interactions,
                                interaction_strength, multi_order_interaction)
from .taps import FeatureTaps, default_taps, parse_tap, tap_features

__all__ = ['check_request', 'class_score', 'default_taps', 'diagonal_profile', 'FeatureTaps',
           'fourier_features', 'image_interactions', 'interaction_strength',
           'mean_log_amplitude', 'multi_order_interaction', 'parse_tap', 'tap_features']
