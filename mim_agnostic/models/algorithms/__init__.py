from .a2mim import A2MIM
from .symmim import SymMIM

__all__ = ['A2MIM', 'SymMIM']
