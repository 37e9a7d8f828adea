"""Labelled line plots of several models on one figure (matplotlib, Agg backend)."""
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

Curve = Tuple[Sequence[float], ...]  # (x, y) or (x, y, standard error of y)


def plot_panels(panels: List[Tuple[str, str, str, Dict[str, Curve]]], out: str,
                suptitle: str = '', colormap: str = '') -> str:
    """One PNG with a row of panels ``(title, xlabel, ylabel, {label: (x, y[, err])})``,
    one labelled line per entry (with a +-err band when given); ``colormap`` (e.g. 'plasma') colours the lines in order, for
    curves that follow depth."""
    fig, axes = plt.subplots(1, len(panels), figsize=(max(7.5, 5.5 * len(panels)), 4.4),
                             squeeze=False)
    for ax, (title, xlabel, ylabel, curves) in zip(axes[0], panels):
        colors = plt.get_cmap(colormap)([i / max(len(curves) - 1, 1) * 0.9
                                         for i in range(len(curves))]) if colormap else None
        for k, (label, (x, y, *err)) in enumerate(curves.items()):
            line, = ax.plot(x, y, marker='o', markersize=3.5, label=label,
                            color=None if colors is None else colors[k])
            if err:  # a band of +- one standard error
                low = [v - e for v, e in zip(y, err[0])]
                high = [v + e for v, e in zip(y, err[0])]
                ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, lw=0)
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7 if len(curves) > 8 else 8, ncol=2 if len(curves) > 8 else 1)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


