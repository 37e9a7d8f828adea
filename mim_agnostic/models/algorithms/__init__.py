from .a2mim import A2MIM

__all__ = ['A2MIM']
