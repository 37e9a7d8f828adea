"""Seeding the global random number generators from a position in the run."""
import hashlib
import random

import numpy as np
import torch

# Domains of the seed derivation, so that a sample's and an iteration's streams never meet.
SAMPLE_DOMAIN = 0
ITERATION_DOMAIN = 1


def seed_global_rngs(*entropy: int, accelerators: bool = False) -> None:
    """Seed python's ``random``, numpy's global RNG and torch's CPU generator (and, with
    ``accelerators``, every GPU's) from a hash of the integers ``entropy``: the same
    ``entropy`` gives the same draws in any process, a different one unrelated draws.

    ``accelerators`` is for the training process: ``torch.manual_seed`` also seeds the GPUs
    but costs ~0.2-2 ms where CUDA is not initialised (a data worker, a CPU machine), far
    more than the rest (~0.05 ms), and data workers draw on the CPU only.
    """
    digest = hashlib.blake2b(','.join(str(int(v)) for v in entropy).encode(),
                             digest_size=16).digest()
    np.random.seed(int.from_bytes(digest[:4], 'little'))
    random.seed(int.from_bytes(digest, 'little'))
    torch_seed = int.from_bytes(digest[8:], 'little')
    if accelerators:
        torch.manual_seed(torch_seed)
    else:
        torch.default_generator.manual_seed(torch_seed)


def seed_for_sample(seed: int, epoch: int, index: int) -> None:
    """Seed the global RNGs (CPU) for the pipeline of dataset sample ``index`` in ``epoch``."""
    seed_global_rngs(seed, SAMPLE_DOMAIN, epoch, index)


def seed_for_iteration(seed: int, iteration: int) -> None:
    """Seed the global RNGs (CPU and GPUs) for training iteration ``iteration``: drop path,
    MixMIM's masks and any other randomness of the model in the training process."""
    seed_global_rngs(seed, ITERATION_DOMAIN, iteration, accelerators=True)
