"""Environment check: ``python -m mim_agnostic.env``.

Prints the versions of the stack, then proves it works: runs a compiled mmcv op, a
torchvision op, and builds (and runs on one small image) an mmpretrain classifier, an mmdet
Mask R-CNN and an mmseg UperNet from those packages' own configs. Exits 1 on any failure.
"""
import importlib
import platform
import sys
import traceback
from typing import Callable, Dict, List, Tuple

import torch

import mim_agnostic  # noqa: F401  (applies the stack compatibility fixes)
from mim_agnostic.utils.runtime import load_package_config, replace_sync_bn


def collect_versions() -> Dict[str, str]:
    import mmcv
    import mmdet
    import mmengine
    import mmpretrain
    import mmseg
    import numpy
    import torchvision
    return {
        'python': platform.python_version(),
        'torch': torch.__version__,
        'torch cuda': str(torch.version.cuda),
        'cuda available': str(torch.cuda.is_available()),
        'torchvision': torchvision.__version__,
        'numpy': numpy.__version__,
        'mmengine': mmengine.__version__,
        'mmcv': mmcv.__version__,
        'mmpretrain': mmpretrain.__version__,
        'mmdet': mmdet.__version__,
        'mmseg': mmseg.__version__,
        'mim_agnostic': mim_agnostic.__version__,
    }


def check_mmcv_ops() -> str:
    from mmcv.ops import RoIAlign, nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.], [50., 50., 60., 60.]])
    _, keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
    assert keep.tolist() == [0, 2], f'mmcv nms kept {keep.tolist()}'
    feats = torch.arange(16.).view(1, 1, 4, 4)
    pooled = RoIAlign((1, 1), spatial_scale=1.0, sampling_ratio=1, aligned=True)(
        feats, torch.tensor([[0., 0., 0., 4., 4.]]))
    assert torch.allclose(pooled, feats.mean().view(1, 1, 1, 1)), pooled
    return 'nms + RoIAlign (compiled ops) ok'


def check_torchvision_ops() -> str:
    from torchvision.ops import nms, roi_align
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.]])
    assert nms(boxes, torch.tensor([0.9, 0.8]), 0.5).tolist() == [0]
    out = roi_align(torch.ones(1, 1, 4, 4), [torch.tensor([[0., 0., 3., 3.]])], (2, 2))
    assert out.shape == (1, 1, 2, 2)
    return 'nms + roi_align ok'


def build_model_from_package_config(package: str, cfg_path: str) -> torch.nn.Module:
    """Build ``cfg.model`` of ``package::cfg_path`` in that package's scope, in eval mode
    (SyncBN -> BN: the check runs in one process)."""
    from mmengine.registry import DefaultScope
    cfg = load_package_config(package, cfg_path)
    importlib.import_module(f'{package}.utils').register_all_modules(init_default_scope=False)
    registry = importlib.import_module(f'{package}.registry').MODELS
    with DefaultScope.overwrite_default_scope(package):
        return registry.build(replace_sync_bn(cfg.model)).eval()


def check_mmpretrain_model() -> str:
    model = build_model_from_package_config('mmpretrain', '_base_/models/resnet18.py')
    with torch.no_grad():
        logits = model(torch.rand(1, 3, 64, 64), mode='tensor')
    return f'{type(model).__name__} (ResNet-18) -> logits {tuple(logits.shape)}'


def check_mmdet_model() -> str:
    from mmdet.structures import DetDataSample
    model = build_model_from_package_config('mmdet', 'mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py')
    sample = DetDataSample(metainfo=dict(img_shape=(128, 160), ori_shape=(128, 160),
                                         scale_factor=(1.0, 1.0)))
    image = torch.randint(0, 256, (3, 128, 160), dtype=torch.uint8)
    with torch.no_grad():
        result = model.test_step(dict(inputs=[image], data_samples=[sample]))[0]
    return (f'{type(model).__name__} (Mask R-CNN R50-FPN) inference -> '
            f'{len(result.pred_instances)} detections')


def check_mmseg_model() -> str:
    model = build_model_from_package_config('mmseg', '_base_/models/upernet_r50.py')
    with torch.no_grad():
        logits = model(torch.rand(1, 3, 64, 64), mode='tensor')
    return f'{type(model).__name__} (UperNet R50) -> logits {tuple(logits.shape)}'


CHECKS: List[Tuple[str, Callable[[], str]]] = [
    ('mmcv ops', check_mmcv_ops),
    ('torchvision ops', check_torchvision_ops),
    ('mmpretrain model', check_mmpretrain_model),
    ('mmdet model', check_mmdet_model),
    ('mmseg model', check_mmseg_model),
]


def run_checks() -> List[Tuple[str, bool, str]]:
    results = []
    for name, check in CHECKS:
        try:
            results.append((name, True, check()))
        except Exception:  # report every failing check, not only the first
            results.append((name, False, traceback.format_exc(limit=3)))
    return results


def main() -> int:
    for key, value in collect_versions().items():
        print(f'{key:>15}: {value}')
    results = run_checks()
    for name, ok, detail in results:
        print(f'[{"ok" if ok else "FAIL"}] {name}: {detail}')
    failed = [name for name, ok, _ in results if not ok]
    print('environment check ' + ('passed' if not failed else f'FAILED: {", ".join(failed)}'))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
