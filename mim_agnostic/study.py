"""The CPU evaluation study: pretrain, evaluate and analyse A²MIM / SimMIM / SymMIM against
supervised training and random init, on ResNet-18 and ViT-tiny, on the generated study data.

Each stage runs the toolkit's own command-line tools in subprocesses (tools/train.py,
tools/evaluate.py, tools/analysis/*.py) and leaves a record file behind; a stage whose record
exists is skipped, so an interrupted study resumes where it stopped. Budgets are fixed
iteration counts in the configs/study configs (calibrated to about the same wall time per
run), so a rerun trains exactly the same schedule whatever else runs on the machine.
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Optional, Sequence, Tuple

from .datasets.study_data import StudySizes, make_study_data
from .utils.files import write_json

BACKBONES = {'r18': 'ResNet-18', 'vit-tiny-6l': 'ViT-tiny-6l'}
METHODS = {'a2mim': 'A²MIM', 'simmim': 'SimMIM', 'symmim': 'SymMIM',
           'supervised': 'supervised', 'random': 'random init'}
STAGES = ('data', 'pretrain', 'evaluate', 'fourier', 'interaction', 'report')


@dataclass(frozen=True)
class StudyModel:
    """One row of the study: ``config`` is what pretraining trains (None for random init)
    and ``eval_config`` the config whose backbone the evaluation builds."""
    method: str
    backbone: str
    config: Optional[str]
    eval_config: str

    @property
    def name(self) -> str:
        return f'{self.method}_{self.backbone}'

    @property
    def label(self) -> str:
        return METHODS[self.method]


def study_models(config_dir: str = 'configs/study',
                 backbones: Sequence[str] = tuple(BACKBONES)) -> List[StudyModel]:
    """The study's rows: every method on every backbone, then random init (built from the
    supervised config: the same backbone with its default initialisation)."""
    models = []
    for backbone in backbones:
        if backbone not in BACKBONES:
            raise ValueError(f'unknown study backbone {backbone!r}; choose from '
                             f'{list(BACKBONES)}')
        supervised = osp.join(config_dir, f'supervised_{backbone}_study.py')
        for method in METHODS:
            config = None if method == 'random' else \
                osp.join(config_dir, f'{method}_{backbone}_study.py')
            models.append(StudyModel(method, backbone, config, config or supervised))
    return models


@dataclass
class StudySettings:
    out_dir: str = 'work_dirs/study'
    data_root: str = 'data/study'
    seed: int = 0
    jobs: int = 2  # subprocesses at a time (runs, evaluations, analyses of each backbone)
    threads: int = 1  # intra-op threads per run
    fourier_images: int = 64
    interaction_images: int = 6
    interaction_pairs: int = 6
    interaction_contexts: int = 4
    interaction_grid: int = 4  # 4 x 4 patches of 16 px on the 64 px crops
    # ratios r of the orders m = floor(r (n - 2)): m = 0, 1, 2, 4, 7, 9, 12, 14 of 14
    interaction_orders: Tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0)


def read_json(path: str) -> Optional[dict]:
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def run_logged(command: List[str], log_path: str, threads: int = 1) -> Tuple[float, float]:
    """Run ``command`` from the repository root on ``threads`` intra-op threads with its
    output in ``log_path``; returns (wall seconds, CPU seconds of the process and its
    children); raises with the log's tail if it fails."""
    os.makedirs(osp.dirname(osp.abspath(log_path)), exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               PYTHONPATH=os.pathsep.join(
                   [os.getcwd()] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    start = time.time()
    with open(log_path, 'w') as log:
        log.write(' '.join(command) + '\n')
        log.flush()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = code = os.waitstatus_to_exitcode(status)
    wall, cpu = time.time() - start, usage.ru_utime + usage.ru_stime
    if code != 0:
        with open(log_path) as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f'exit {code} after {wall:.0f} s: {" ".join(command)}\n'
                           f'--- end of {log_path} ---\n{tail}')
    return wall, cpu


class Study:
    """The stages of the study on one output folder (``settings.out_dir``)."""

    def __init__(self, settings: StudySettings, models: Sequence[StudyModel],
                 sizes: StudySizes = StudySizes()) -> None:
        self.s = settings
        self.models = list(models)
        self.sizes = sizes
        self.python = sys.executable

    def path(self, *parts: str) -> str:
        return osp.join(self.s.out_dir, *parts)

    def say(self, message: str) -> None:
        print(f'[study {time.strftime("%H:%M:%S")}] {message}', flush=True)

    def run_tool(self, command: List[str], log_name: str) -> Tuple[float, float]:
        return run_logged([self.python, *command], self.path('logs', log_name),
                          self.s.threads)

    def record_stage(self, stage: str, wall: float) -> None:
        """Add ``wall`` seconds to the stage's total (a resumed stage adds up)."""
        times = read_json(self.path('stage_times.json')) or {}
        times[stage] = round(times.get(stage, 0.0) + wall, 1)
        write_json(self.path('stage_times.json'), times)

    def run_parallel(self, stage: str, jobs: Sequence[Callable[[], None]]) -> None:
        """Run ``jobs`` ``settings.jobs`` at a time and record the stage's wall time."""
        if not jobs:
            return
        start = time.time()
        with ThreadPoolExecutor(max_workers=self.s.jobs) as pool:
            for future in [pool.submit(job) for job in jobs]:
                future.result()  # re-raises a failed job's error
        self.record_stage(stage, time.time() - start)

    # ---------------------------------------------------------------- data
    def data(self) -> None:
        marker = osp.join(self.s.data_root, 'study_data.json')
        wanted = dict(asdict(self.sizes), seed=self.s.seed)
        have = read_json(marker)
        if have == wanted:
            self.say(f'data: {self.s.data_root} already generated')
            return
        if have is not None:
            raise ValueError(f'{marker} was generated with {have}, the study asks for '
                             f'{wanted}: remove {self.s.data_root} or pass --data-root')
        start = time.time()
        counts = make_study_data(self.s.data_root, self.sizes, seed=self.s.seed)
        write_json(marker, wanted)
        self.record_stage('data', time.time() - start)
        self.say(f'data: {counts} images in {time.time() - start:.0f} s')

    # ------------------------------------------------------------ pretrain
    def run_record(self, model: StudyModel) -> Optional[dict]:
        return read_json(self.path('runs', f'{model.name}.json'))

    def pretrain_one(self, model: StudyModel) -> None:
        work_dir = self.path('work_dirs', model.name)
        shutil.rmtree(work_dir, ignore_errors=True)  # an interrupted run starts over
        self.say(f'pretrain {model.name} ({model.config}) ...')
        wall, cpu = self.run_tool(
            ['tools/train.py', model.config, '--work-dir', work_dir, '--cfg-options',
             f'train_dataloader.dataset.data_root={self.s.data_root}',
             f'randomness.seed={self.s.seed}'], f'{model.name}.train.log')
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            checkpoint = f.read().strip()
        iterations = int(osp.basename(checkpoint)[len('iter_'):-len('.pth')])
        write_json(self.path('runs', f'{model.name}.json'),
                   dict(config=model.config, checkpoint=checkpoint, iterations=iterations,
                        wall_s=round(wall, 1), cpu_s=round(cpu, 1)))
        self.say(f'pretrain {model.name}: {iterations} iterations in {wall:.0f} s '
                 f'({cpu:.0f} CPU-s)')

    def pretrain(self) -> None:
        pending = [model for model in self.models
                   if model.config is not None and self.run_record(model) is None]
        self.run_parallel('pretrain', [lambda m=m: self.pretrain_one(m) for m in pending])

    def checkpoint(self, model: StudyModel) -> List[str]:
        """[] for random init, else [the run's final checkpoint] (the run must be done)."""
        if model.config is None:
            return []
        record = self.run_record(model)
        if record is None:
            raise FileNotFoundError(f'{model.name} is not pretrained yet: run the pretrain '
                                    'stage first')
        return [record['checkpoint']]

    # ------------------------------------------------------------ evaluate
    def classifier_dir(self, model: StudyModel) -> str:
        return self.path('classifiers', model.name)

    def evaluate_one(self, model: StudyModel) -> None:
        out = self.path('eval', f'{model.name}.json')
        self.say(f'evaluate {model.name} ...')
        wall, cpu = self.run_tool(
            ['tools/evaluate.py', model.eval_config, *self.checkpoint(model),
             '--data-root', self.s.data_root, '--protocol', 'knn', 'linear',
             '--cache-dir', self.path('feature_cache'),
             '--save-classifier', self.classifier_dir(model), '--out', out],
            f'{model.name}.eval.log')
        result = read_json(out)
        self.say(f'evaluate {model.name}: kNN {result["knn"]["top1"]:.1f} %, linear '
                 f'{result["linear"]["top1"]:.1f} % in {wall:.0f} s ({cpu:.0f} CPU-s)')

    def evaluate(self) -> None:
        pending = [model for model in self.models
                   if not osp.isfile(self.path('eval', f'{model.name}.json'))]
        self.run_parallel('evaluate', [lambda m=m: self.evaluate_one(m) for m in pending])

    # ------------------------------------------------------------ analysis
    def backbones(self) -> List[str]:
        return list(dict.fromkeys(model.backbone for model in self.models))

    def fourier_one(self, backbone: str) -> None:
        args = []
        for model in self.models:
            if model.backbone == backbone:
                args += ['--model', model.label, model.eval_config, *self.checkpoint(model)]
        self.say(f'fourier {backbone} ...')
        wall, cpu = self.run_tool(
            ['tools/analysis/fourier_features.py', *args, '--data-root', self.s.data_root,
             '--split', 'val', '--num-images', str(self.s.fourier_images),
             '--out-dir', self.path('fourier', backbone)], f'fourier_{backbone}.log')
        self.say(f'fourier {backbone}: {wall:.0f} s ({cpu:.0f} CPU-s)')

    def fourier(self) -> None:
        pending = [backbone for backbone in self.backbones() if not osp.isfile(
            self.path('fourier', backbone, 'fourier_features.json'))]
        self.run_parallel('fourier', [lambda b=b: self.fourier_one(b) for b in pending])

    def interaction_one(self, backbone: str) -> None:
        args = []
        for model in self.models:
            if model.backbone == backbone:
                folder = self.classifier_dir(model)
                args += ['--model', model.label, osp.join(folder, 'classifier.py'),
                         osp.join(folder, 'classifier.pth')]
        self.say(f'interaction {backbone} ...')
        wall, cpu = self.run_tool(
            ['tools/analysis/interaction_order.py', *args, '--data-root', self.s.data_root,
             '--split', 'val', '--grid', str(self.s.interaction_grid),
             '--orders', *map(str, self.s.interaction_orders),
             '--num-images', str(self.s.interaction_images),
             '--num-pairs', str(self.s.interaction_pairs),
             '--num-contexts', str(self.s.interaction_contexts),
             '--seed', str(self.s.seed), '--out-dir', self.path('interaction', backbone)],
            f'interaction_{backbone}.log')
        self.say(f'interaction {backbone}: {wall:.0f} s ({cpu:.0f} CPU-s)')

    def interaction(self) -> None:
        pending = [backbone for backbone in self.backbones() if not osp.isfile(
            self.path('interaction', backbone, 'interaction_order.json'))]
        self.run_parallel('interaction', [lambda b=b: self.interaction_one(b) for b in pending])

    # -------------------------------------------------------------- report
    def rows(self) -> List[dict]:
        rows = []
        for model in self.models:
            run = self.run_record(model) or {}
            result = read_json(self.path('eval', f'{model.name}.json')) or {}
            rows.append(dict(
                backbone=BACKBONES[model.backbone], method=model.label,
                knn_top1=result.get('knn', {}).get('top1'),
                linear_top1=result.get('linear', {}).get('top1'),
                knn_top5=result.get('knn', {}).get('top5'),
                linear_top5=result.get('linear', {}).get('top5'),
                iterations=run.get('iterations'), pretrain_wall_s=run.get('wall_s'),
                pretrain_cpu_s=run.get('cpu_s')))
        return rows

    def report(self, plots_to: Optional[str] = None) -> str:
        """Write results.json and results.md (and copy the plots to ``plots_to`` as
        study_<analysis>_<backbone>.png); returns the markdown table."""
        rows = self.rows()
        times = read_json(self.path('stage_times.json')) or {}

        def cell(value, fmt):
            return '–' if value is None else format(value, fmt)

        lines = ['| backbone | method | kNN top-1 (%) | linear top-1 (%) | kNN top-5 (%) | '
                 'linear top-5 (%) | iterations | pretraining wall (s) | pretraining CPU (s) |',
                 '|---|---|---:|---:|---:|---:|---:|---:|---:|']
        for row in rows:
            lines.append(f'| {row["backbone"]} | {row["method"]} | '
                         f'{cell(row["knn_top1"], ".1f")} | {cell(row["linear_top1"], ".1f")} | '
                         f'{cell(row["knn_top5"], ".1f")} | {cell(row["linear_top5"], ".1f")} | '
                         f'{cell(row["iterations"], "d")} | '
                         f'{cell(row["pretrain_wall_s"], ".0f")} | '
                         f'{cell(row["pretrain_cpu_s"], ".0f")} |')
        table = '\n'.join(lines)
        plots = {}
        for analysis, name in (('fourier', 'fourier_features'),
                               ('interaction', 'interaction_order')):
            for backbone in self.backbones():
                png = self.path(analysis, backbone, f'{name}.png')
                if osp.isfile(png):
                    plots[f'{analysis}_{backbone}'] = png
                    if plots_to:
                        os.makedirs(plots_to, exist_ok=True)
                        shutil.copy(png, osp.join(plots_to, f'study_{analysis}_{backbone}.png'))
        write_json(self.path('results.json'),
                   dict(rows=rows, stage_wall_s=times,
                        total_wall_s=round(sum(times.values()), 1), plots=plots,
                        settings=asdict(self.s), data=asdict(self.sizes)))
        stage_line = ', '.join(f'{k} {v / 60:.1f} min' for k, v in times.items())
        markdown = (f'{table}\n\nWall time by stage: {stage_line}; total '
                    f'{sum(times.values()) / 60:.1f} min.\n')
        with open(self.path('results.md'), 'w') as f:
            f.write(markdown)
        return markdown

    def run(self, stages: Sequence[str], plots_to: Optional[str] = None) -> None:
        unknown = set(stages) - set(STAGES)
        if unknown:
            raise ValueError(f'unknown study stages {sorted(unknown)}; choose from {STAGES}')
        for stage in STAGES:
            if stage not in stages:
                continue
            if stage == 'report':
                print(self.report(plots_to))
            else:
                getattr(self, stage)()
