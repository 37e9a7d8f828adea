"""Result files that a kill never leaves half-written."""
import json
import os
import os.path as osp


def write_json(path: str, data: dict) -> str:
    """Write ``data`` as indented JSON to ``path`` through ``<path>.tmp`` and a rename, so a
    reader (e.g. the study's skip-if-done check) sees the old file or the whole new one."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(f'{path}.tmp', 'w') as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
    os.replace(f'{path}.tmp', path)
    return path
