default_scope = 'mim_agnostic'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # written to a .tmp file and renamed, last_checkpoint likewise: a kill never leaves a
    # truncated checkpoint or a pointer to a deleted one
    checkpoint=dict(type='AtomicCheckpointHook', interval=10, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # SIGTERM / SIGUSR1 (Slurm's warning, Kubernetes, torchrun) -> all ranks save iter_<k>.pth
    # after the current iteration and exit with code 75 (resume with --resume); also saves
    # every interval_minutes of wall time, keeping the newest max_keep_ckpts of these
    preemption=dict(type='PreemptionHook', signals=('SIGTERM', 'SIGUSR1'), check_interval=1,
                    interval_minutes=30, max_keep_ckpts=2),
)
# masked input | reconstruction | original, to work_dir/reconstructions and the vis backends
custom_hooks = [dict(type='ReconstructionVisualizationHook', interval=5000, num_images=4)]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),  # tools/train.py switches to gloo when there is no GPU
)

# add dict(type='TensorboardVisBackend') to log scalars and pictures to TensorBoard
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

log_processor = dict(
    window_size=10,
    custom_cfg=[dict(data_src='', method='mean', window_size='global')])
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=None, deterministic=False)
