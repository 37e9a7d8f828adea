#!/usr/bin/env bash
# One-command install of mim_agnostic and its OpenMMLab 2.x stack on the current Python.
#
#   bash tools/install.sh
#
# Idempotent and quick when everything is already in place:
#   1. keeps a working torch/torchvision pair; installs torch 2.13.0 + torchvision 0.28.0 only
#      when the current pair is missing or fails to run an op;
#   2. builds mmcv 2.1.0 with its compiled ops against the installed torch, caching the wheel
#      under a key made of the torch version, its CUDA version, the C++ ABI and the Python tag,
#      so a wheel built for another torch is never reused;
#   3. installs the pinned stack (mmengine, mmpretrain, mmdet, mmsegmentation) and this package
#      in editable mode;
#   4. runs the environment check (python -m mim_agnostic.env).
# Environment knobs (all optional): MIM_AGNOSTIC_CACHE (wheel cache, default
# ~/.cache/mim_agnostic), PYTHON (interpreter, default python), MAX_JOBS (compile jobs).
set -euo pipefail

PY=${PYTHON:-python}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${MIM_AGNOSTIC_CACHE:-$HOME/.cache/mim_agnostic}
TORCH_PIN='torch===2.13.0'          # '===' so a local '2.13.0+cpu' build is not picked
TORCHVISION_PIN='torchvision==0.28.0'
MMCV_VERSION=2.1.0
STACK=(mmengine==0.10.7 mmpretrain==1.2.0 mmdet==3.3.0 mmsegmentation==1.2.2)
pip_install() { "$PY" -m pip install --disable-pip-version-check "$@"; }
log() { printf '\n[install] %s\n' "$*"; }
t0=$(date +%s)

# mmcv's setup.py imports pkg_resources, which setuptools >= 81 removed; torch's own
# requirements pull the newest setuptools, so the pin is (re)applied after every step.
build_tools() { pip_install -q "setuptools<81" wheel ninja packaging; }
build_tools

torch_pair_works() {
  "$PY" - <<'PYEOF' >/dev/null 2>&1
import torch, torchvision
from torchvision.ops import nms
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.]])
assert nms(boxes, torch.tensor([0.9, 0.8]), 0.5).tolist() == [0]
PYEOF
}
if torch_pair_works; then
  log "torch/torchvision already work: $("$PY" -c 'import torch, torchvision; print(torch.__version__, torchvision.__version__)')"
else
  log "installing $TORCH_PIN $TORCHVISION_PIN"
  pip_install "$TORCH_PIN" "$TORCHVISION_PIN"
  torch_pair_works || { echo "torch/torchvision still fail to import or run nms" >&2; exit 1; }
  build_tools
fi

mmcv_ops_work() {
  "$PY" - <<PYEOF >/dev/null 2>&1
import mmcv, torch
assert mmcv.__version__ == '$MMCV_VERSION', mmcv.__version__
from mmcv.ops import nms
nms(torch.rand(4, 4) * 10, torch.rand(4), 0.5)
PYEOF
}
if mmcv_ops_work; then
  log "mmcv $MMCV_VERSION with ops already works"
else
  KEY=$("$PY" -c 'import sys, torch; print("torch{}-cuda{}-cxx11abi{}-cp{}{}".format(torch.__version__.replace("+", "_"), torch.version.cuda or "none", int(torch.compiled_with_cxx11_abi()), *sys.version_info[:2]))')
  WHEEL_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION-$KEY"
  if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    log "building mmcv $MMCV_VERSION with ops for $KEY (about 15 min on 2 cores)"
    BUILD=$(mktemp -d)
    pip_install -q "mmengine==0.10.7"  # mmcv's setup.py imports mmengine to check its version
    "$PY" -m pip download --no-deps --no-binary :all: --no-build-isolation -d "$BUILD" "mmcv==$MMCV_VERSION"
    tar -xzf "$BUILD"/mmcv-$MMCV_VERSION.tar.gz -C "$BUILD"
    SRC="$BUILD/mmcv-$MMCV_VERSION"
    # torch >= 2.14 headers need C++20; mmcv 2.1.0 hard-codes C++17 (and C++14 on old paths).
    if "$PY" -c 'import sys, torch; v = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2]); sys.exit(0 if v >= (2, 14) else 1)'; then
      sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
    fi
    (cd "$SRC" && MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} "$PY" -m pip wheel --no-deps --no-build-isolation -w "$BUILD/dist" .)
    mkdir -p "$WHEEL_DIR"
    mv "$BUILD"/dist/mmcv-*.whl "$WHEEL_DIR"/
    rm -rf "$BUILD"
  else
    log "reusing cached $(ls "$WHEEL_DIR"/mmcv-*.whl)"
  fi
  pip_install --no-deps --force-reinstall "$WHEEL_DIR"/mmcv-*.whl
  mmcv_ops_work || { echo "mmcv was installed from $WHEEL_DIR but its ops fail" >&2; exit 1; }
fi

log "OpenMMLab stack and mim_agnostic"
# mmcv's own requirements (its wheel was installed without deps)
pip_install -q addict "opencv-python>=4.8" pyyaml yapf "Pillow" "${STACK[@]}" -r "$ROOT/requirements.txt"
build_tools
pip_install -q --no-deps --no-build-isolation -e "$ROOT"

log "environment check"
"$PY" -m mim_agnostic.env
log "done in $(( $(date +%s) - t0 )) s"
