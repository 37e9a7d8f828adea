from pathlib import Path

from setuptools import find_packages, setup


def read_version() -> str:
    namespace: dict = {}
    exec((Path(__file__).parent / 'mim_agnostic' / 'version.py').read_text(), namespace)
    return namespace['__version__']


setup(
    name='mim_agnostic',
    version=read_version(),
    description='Architecture-agnostic masked image modeling (A2MIM, SimMIM, MixMIM, SymMIM) '
    'on the OpenMMLab 2.x stack',
    long_description=(Path(__file__).parent / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    python_requires='>=3.9',
    # mmcv must be built with ops against the installed torch: tools/install.sh does it.
    install_requires=[
        'torch>=2.0', 'torchvision', 'mmcv==2.1.0', 'mmengine==0.10.7', 'mmpretrain==1.2.0',
        'mmdet==3.3.0', 'mmsegmentation==1.2.2', 'numpy', 'tqdm'
    ],
    license='Apache License 2.0',
)
