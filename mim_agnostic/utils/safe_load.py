"""Checkpoint reading for every path of the toolkit: weights only, clear refusals."""
import os.path as osp
import pickle
import re
import zipfile
from typing import Dict

import torch
from torch import nn


class UnsafeCheckpointError(ValueError):
    """A checkpoint holds pickled Python objects outside the allow-list."""


def load_checkpoint_file(path: str, map_location='cpu') -> object:
    """``torch.load(path, weights_only=True)``: tensors, containers and the allow-listed
    mmengine/numpy metadata (``mim_agnostic.utils.compat``) only; ``*.safetensors`` files
    (tensors by construction) through safetensors. A file carrying any other
    object (a callable, a class instance) is refused before anything in it runs."""
    path = osp.expanduser(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    if path.endswith('.safetensors'):  # timm / Hugging Face hub weights: tensors only
        from safetensors import SafetensorError
        from safetensors.torch import load_file
        try:
            return load_file(path, device=str(map_location))
        except SafetensorError as error:
            raise ValueError(f'{path} is not a readable safetensors file: {error}') from None
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        culprit = re.search(r'(?:Unsupported global: GLOBAL|unsupported GLOBAL) ([\w.]+)',
                            str(error))
        what = f' ({culprit.group(1)})' if culprit else ''
        raise UnsafeCheckpointError(
            f'refused to load {path}: it holds a pickled Python object{what} that is not '
            'tensors or checkpoint metadata and could run code when loaded; nothing in it '
            'was executed. Load only checkpoints you trust, re-saved as plain state_dicts.'
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f'{path} is not a readable checkpoint (truncated or corrupt?): '
                         f'{str(error).splitlines()[0]}') from None


def load_weights(path: str) -> Dict[str, torch.Tensor]:
    """The flat ``state_dict`` of a checkpoint, read with ``weights_only=True``."""
    checkpoint = load_checkpoint_file(path)
    if isinstance(checkpoint, dict):
        for key in ('state_dict', 'model'):
            if isinstance(checkpoint.get(key), dict):
                return checkpoint[key]
        if checkpoint and all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
            return checkpoint
    raise ValueError(f'{path} is not a checkpoint: expected a dict with a "state_dict" (or '
                     f'"model") of tensors, got {type(checkpoint).__name__}')


def check_weights_fit(module: nn.Module, state_dict: Dict[str, torch.Tensor], source: str,
                      min_fraction: float = 0.5) -> None:
    """Raise if fewer than ``min_fraction`` of ``module``'s learned tensors find a
    same-named, same-shaped tensor in ``state_dict``: the file was saved for another
    architecture (loading it with strict=False would silently leave the model random)."""
    expected = {k: v for k, v in module.state_dict().items()
                if not k.endswith(('num_batches_tracked', 'relative_position_index'))}
    if not expected:
        return
    matched = [k for k, v in expected.items()
               if k in state_dict and tuple(state_dict[k].shape) == tuple(v.shape)]
    if len(matched) >= min_fraction * len(expected):
        return
    missing = [k for k in expected if k not in state_dict][:5]
    mis_shaped = [f'{k} {tuple(state_dict[k].shape)} vs {tuple(expected[k].shape)}'
                  for k in expected if k in state_dict and k not in matched][:3]
    unexpected = [k for k in state_dict if k not in expected][:5]
    raise ValueError(
        f'{source} does not fit {type(module).__name__}: only {len(matched)} of '
        f'{len(expected)} weights match by name and shape (missing e.g. {missing}, '
        f'mis-shaped e.g. {mis_shaped}, unexpected e.g. {unexpected}); it was saved for a '
        'different architecture (or needs prefix=... in init_cfg)')
