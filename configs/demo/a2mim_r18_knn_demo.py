# The A²MIM CPU demo with ResNet-18 and the online kNN probe: every 10 epochs (and after the
# last) the backbone's weighted kNN top-1/top-5 on the demo val split, with train as the
# memory bank, is logged as knn/top1, knn/top5 (scalars.json, TensorBoard).
_base_ = ['./a2mim_r50_demo.py']

model = dict(backbone=dict(depth=18), neck=dict(in_channels=512))

custom_hooks = [
    dict(type='ReconstructionVisualizationHook', interval=40, num_images=4),
    dict(type='OnlineKNNHook', data_root={{_base_.data_root}}, interval=10, k=20,
         temperature=0.07, batch_size=32, num_workers=2),
]
