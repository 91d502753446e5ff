"""Plots (matplotlib, PNG) of a trained AAE: codes coloured by label over prior samples (paper Fig.
2/4), sample grids, manifold walks, reconstructions, loss curves. Each function returns a
``matplotlib.figure.Figure`` and, given ``path``, also writes it; none touches pyplot's global state."""
from .codes import plot_codes
from .curves import plot_history
from .images import plot_manifold, plot_reconstructions, plot_samples
from .report import save_plots

__all__ = ["plot_codes", "plot_history", "plot_manifold", "plot_reconstructions", "plot_samples", "save_plots"]
