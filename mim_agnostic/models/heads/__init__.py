from .a2mim_head import A2MIMHead, replace_visible_pixels

__all__ = ['A2MIMHead', 'replace_visible_pixels']
