from .reconstruction import reconstruction_grid, render_reconstructions, to_display_image

__all__ = ['reconstruction_grid', 'render_reconstructions', 'to_display_image']
