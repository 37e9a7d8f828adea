"""The benchmark harness runs at tiny size and writes a well-formed table and JSON (it does
not assert timings); the optimised loss path matches the straightforward one."""
import json
import sys

import pytest
import torch

from mim_agnostic.models.heads import A2MIMHead
from conftest import run


def test_training_step_benchmark_writes_table_and_json(tmp_path):
    out = tmp_path / 'bench.json'
    log = run([sys.executable, 'tools/benchmark.py', '--backbone', 'r50', '--methods', 'plain',
               'a2mim', '--batch', '2', '--size', '64', '--steps', '1', '--warmup', '0',
               '--rounds', '2',
               '--out', str(out)])
    assert '| plain | r50 | 2 x 64 | cpu fp32 |' in log and '| a2mim | r50 |' in log
    rows = json.loads(out.read_text())['rows']
    assert [r['method'] for r in rows] == ['plain', 'a2mim']
    assert rows[0]['time_ratio'] == 1.0 and rows[0]['memory_ratio'] == 1.0
    for row in rows:
        assert row['median_s'] > 0 and row['images_per_s'] > 0 and row['peak_mib'] > 0


def test_pipeline_benchmark_reports_the_share_of_masking(tmp_path, demo_root):
    out = tmp_path / 'pipeline.json'
    run([sys.executable, 'tools/benchmark.py', '--pipeline', f'{demo_root}/imagenet',
         '--pipeline-images', '8', '--size', '96', '--out', str(out)])
    result = json.loads(out.read_text())['pipeline']
    assert result['images'] == 8
    assert 0 < result['mask_share'] < 1 and 0 < result['seed_share'] < 1
    assert {'seed_ms', 'load_ms', 'random_resized_crop_ms', 'flip_ms', 'mask_ms',
            'pack_ms'} <= set(result)
    assert result['images_per_s_unseeded'] > result['images_per_s']


def test_a2mim_loss_under_bf16_autocast_is_close_to_fp32():
    torch.manual_seed(0)
    head = A2MIMHead(loss=dict(type='MaskedReconstructionLoss', criterion='focal_l1'),
                     fft_loss=dict(type='FocalFrequencyLoss'), fft_weight=0.5,
                     fft_unmask_weight=1e-3)
    pred, target = torch.randn(2, 3, 64, 64), torch.randn(2, 3, 64, 64)
    mask = (torch.rand(2, 4, 4) > 0.4).long()
    reference = head.loss(pred, target, mask)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        mixed = head.loss(pred.bfloat16(), target.bfloat16(), mask)
    for key in reference:  # inputs rounded to bf16 (8 bits of mantissa): ~1% tolerance
        assert mixed[key].float().item() == pytest.approx(reference[key].item(), rel=2e-2)
