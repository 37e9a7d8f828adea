"""One checkpoint through the evaluation protocols (what ``tools/evaluate.py`` runs)."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.logging import print_log

from .classifier import save_classifier
from .data import build_eval_dataloader, scan_split, training_crop_size
from .features import POOL_MODES, FeatureExtractor
from .knn import knn_classify
from .linear_probe import DEFAULT_WEIGHT_DECAYS, linear_probe

PROTOCOLS = ('knn', 'linear')


@dataclass
class EvalSettings:
    """Everything but the config and checkpoint; the defaults are the documented protocol."""
    data_root: str
    protocols: Sequence[str] = PROTOCOLS
    k: int = 20
    temperature: float = 0.07
    pool: str = 'avg'
    train_split: str = 'train'
    val_split: str = 'val'
    image_size: Optional[int] = None
    batch_size: int = 64
    num_workers: int = 2
    cache_dir: Optional[str] = None
    weight_decays: Sequence[float] = DEFAULT_WEIGHT_DECAYS
    holdout: float = 0.2
    seed: int = 0
    device: str = field(default_factory=lambda: 'cuda' if torch.cuda.is_available() else 'cpu')
    save_classifier: Optional[str] = None
    show_progress: bool = True

    def check(self) -> None:
        unknown = [p for p in self.protocols if p not in PROTOCOLS]
        if unknown or not self.protocols:
            raise ValueError(f'protocols {list(self.protocols)}: choose from {PROTOCOLS}')
        if self.pool not in POOL_MODES:
            raise ValueError(f'pool={self.pool!r} is not one of {POOL_MODES}')
        if self.k < 1 or self.temperature <= 0:
            raise ValueError(f'k={self.k} must be >= 1 and temperature={self.temperature} > 0')
        if self.save_classifier and 'linear' not in self.protocols:
            raise ValueError('save_classifier needs the linear protocol')


def evaluate_checkpoint(cfg: Config, checkpoint: Optional[str],
                        settings: EvalSettings) -> Dict[str, Dict[str, object]]:
    """``{'knn': {...}, 'linear': {...}}`` with top1/top5 in percent and the settings used.

    Order: settings, data folders and the checkpoint's fit are checked first; only then are
    features extracted (or read from the cache)."""
    settings.check()
    train_files = scan_split(settings.data_root, settings.train_split, reference_split=None)
    val_files = scan_split(settings.data_root, settings.val_split, settings.train_split,
                           reference=train_files)
    extractor = FeatureExtractor(cfg, checkpoint, settings.pool, settings.seed)
    extractor.to(settings.device)
    image_size = settings.image_size or training_crop_size(cfg)
    features = {}
    for split, files in ((settings.train_split, train_files), (settings.val_split, val_files)):
        loader = build_eval_dataloader(cfg, settings.data_root, split, settings.batch_size,
                                       settings.num_workers, image_size, files=files)
        print_log(f'{split}: {len(files.samples)} images, {len(files.classes)} classes',
                  logger='current')
        features[split] = extractor.features(loader, settings.cache_dir, split,
                                             settings.show_progress)
    train, val = features[settings.train_split], features[settings.val_split]
    num_classes = len(train.classes)
    device = torch.device(settings.device)
    train_x, val_x = train.features.to(device), val.features.to(device)
    results = {}
    common = dict(checkpoint=checkpoint, pool=settings.pool, image_size=image_size,
                  num_train=len(train.labels), num_val=len(val.labels), num_classes=num_classes)
    if 'knn' in settings.protocols:
        results['knn'] = dict(**knn_classify(train_x, train.labels, val_x, val.labels,
                                             num_classes, settings.k, settings.temperature),
                              **common)
    if 'linear' in settings.protocols:
        result, probe = linear_probe(train_x, train.labels, val_x, val.labels, num_classes,
                                     settings.weight_decays, settings.holdout, settings.seed)
        results['linear'] = dict(**result, **common)
        if settings.save_classifier:
            paths = save_classifier(settings.save_classifier, extractor, probe, train.classes,
                                    image_size, meta=dict(checkpoint=checkpoint,
                                                          linear=results['linear']))
            results['linear']['classifier'] = dict(config=paths[0], checkpoint=paths[1])
    return results


def format_table(results: Dict[str, Dict[str, object]]) -> str:
    """A plain-text table: protocol | top-1 | top-5 | settings."""
    rows: List[List[str]] = [['protocol', 'top-1 (%)', 'top-5 (%)', 'settings']]
    for name, result in results.items():
        if name == 'knn':
            setting = f'k={result["k"]}, T={result["temperature"]}'
        else:
            setting = f'weight_decay={result["weight_decay"]:g}'
        rows.append([name, f'{result["top1"]:.2f}', f'{result["top5"]:.2f}', setting])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [' | '.join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows]
    lines.insert(1, '-+-'.join('-' * width for width in widths))
    return '\n'.join(lines)
