"""Evaluation of a (pretrained) backbone: clean-image features with an on-disk cache, the
weighted kNN and linear-probe protocols, and the probe's export as an ImageClassifier."""
from mim_agnostic.models.necks import FeaturePool

from .classifier import save_classifier
from .data import EvalImageList, SplitFiles, build_eval_dataloader, scan_split
from .evaluate import PROTOCOLS, EvalSettings, evaluate_checkpoint, format_table
from .features import FeatureExtractor, FeatureSet
from .knn import knn_classify, knn_scores, topk_accuracy
from .linear_probe import LinearProbe, fit_linear, linear_probe

__all__ = ['FeaturePool', 'save_classifier', 'EvalImageList', 'SplitFiles',
           'build_eval_dataloader', 'scan_split', 'PROTOCOLS', 'EvalSettings',
           'evaluate_checkpoint', 'format_table', 'FeatureExtractor', 'FeatureSet',
           'knn_classify', 'knn_scores', 'topk_accuracy', 'LinearProbe', 'fit_linear',
           'linear_probe']
