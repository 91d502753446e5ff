"""Image grids of a trained AAE: samples from the prior, manifold walks through code space, and
reconstructions of held-out images."""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch

from ..models import AAE, CategoricalAAE
from ..priors import Gaussian, SwissRoll
from ._figure import PathLike, finish, image_shape, new_figure, show_mosaic, tile

Model = Union[AAE, CategoricalAAE]
PERCENTILES = (0.03, 0.97)  # the span of a Gaussian walk, as in the paper's manifold figures


def _decode(model: Model, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Decoded codes; models whose decoder takes a label (supervised, categorical) get ``labels``, or
    label 0 when None."""
    device = next(model.parameters()).device
    if isinstance(model, CategoricalAAE):
        labels = torch.zeros(len(z), dtype=torch.long) if labels is None else labels
        return model.decode(labels.to(device), z.float().to(device)).cpu()
    if model.labels_to == "decoder" and labels is None:
        labels = torch.zeros(len(z), dtype=torch.long)
    return model.decode(z.float().to(device), None if labels is None else labels.to(device)).cpu()


@torch.no_grad()
def plot_samples(model: Model, *, rows: int = 10, cols: int = 10, seed: int = 0,
                 image_shape_hw: Optional[Tuple[int, int]] = None, path: Optional[PathLike] = None):
    """A rows x cols grid of decoded prior samples. The supervised variant puts one style (code) per
    row and one class per column (the paper's Fig. 6); the label-regularized variant draws row k
    from the prior's component k; the categorical variants decode category k in row k (the paper's
    Fig. 9 and 10); the unsupervised one draws from the whole prior."""
    model.eval()
    shape = image_shape(model.config["input_dim"], image_shape_hw)
    k = model.config["num_labels"]
    if isinstance(model, CategoricalAAE):
        k = model.config["num_categories"]
        z = model.prior.sample(cols, seed=seed).repeat(k, 1)
        images = _decode(model, z, torch.arange(k).repeat_interleave(cols))
        rows, title = k, "samples: one category per row, styles from the prior across"
    elif model.labels_to == "decoder":
        z = model.prior.sample(rows, seed=seed).repeat_interleave(k, 0)
        labels = torch.arange(k).repeat(rows)
        images, cols, title = _decode(model, z, labels), k, "samples: one style per row, one class per column"
    elif model.labels_to == "discriminator" and model.prior.num_classes is not None:
        rows = min(rows, model.prior.num_classes)
        labels = torch.arange(rows).repeat_interleave(cols)
        images = _decode(model, model.prior.sample(rows * cols, labels=labels, seed=seed))
        title = "samples: row k from the prior's component k"
    else:
        images, title = _decode(model, model.prior.sample(rows * cols, seed=seed)), "samples from the prior"
    fig = new_figure(cols * 0.6 + 0.5, rows * 0.6 + 0.6)
    show_mosaic(fig.add_subplot(), tile(images, rows, cols, shape), title)
    return finish(fig, path)


@torch.no_grad()
def plot_manifold(model: Model, *, steps: int = 15, seed: int = 0, image_shape_hw: Optional[Tuple[int, int]] = None,
                  path: Optional[PathLike] = None):
    """Decoded walks through code space: a Gaussian prior is walked along each code axis through its
    3rd..97th percentiles (a 2-D code gives the full grid), the swiss roll along its arc, other 2-D
    priors over the grid spanned by their samples' percentiles. Categorical models walk their style
    code with category 0."""
    model.eval()
    shape = image_shape(model.config["input_dim"], image_shape_hw)
    prior, dim = model.prior, model.config["latent_dim"]
    if isinstance(prior, SwissRoll):
        rows = 4
        z = SwissRoll.point(torch.linspace(0.01, 0.99, rows * steps, dtype=torch.float64))
        title, row_labels = "walk along the swiss roll's arc (row after row)", ()
    else:
        fractions = torch.linspace(*PERCENTILES, steps, dtype=torch.float64)
        if isinstance(prior, Gaussian):
            center = prior.mean.double()
            levels = center + prior.std.double() * torch.special.ndtri(fractions)[:, None]
        else:
            drawn = prior.sample(20000, seed=seed).double()
            center = drawn.median(0).values
            levels = torch.quantile(drawn, fractions, dim=0)
        if dim == 2:
            rows = steps
            grid_y, grid_x = torch.meshgrid(levels[:, 1].flip(0), levels[:, 0], indexing="ij")
            z = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], 1)
            title, row_labels = "code grid (z1 across, z2 down)", ()
        else:
            rows = dim
            z = center.repeat(dim * steps, 1)
            for axis in range(dim):
                z[axis * steps:(axis + 1) * steps, axis] = levels[:, axis]
            title, row_labels = "walk along each code axis (others at the center)", [f"z{i + 1}" for i in range(dim)]
    images = _decode(model, z)
    fig = new_figure(steps * 0.6 + 0.8, rows * 0.6 + 0.6)
    show_mosaic(fig.add_subplot(), tile(images, rows, steps, shape), title, row_labels)
    return finish(fig, path)


@torch.no_grad()
def plot_reconstructions(model: Model, images: torch.Tensor, labels: Optional[torch.Tensor] = None, *, n: int = 12,
                         image_shape_hw: Optional[Tuple[int, int]] = None, path: Optional[PathLike] = None):
    """The first ``n`` images (top row) and their reconstructions (bottom row); the supervised
    variant needs their labels."""
    model.eval()
    shape = image_shape(model.config["input_dim"], image_shape_hw)
    originals = images[:n].float()
    device = next(model.parameters()).device
    if isinstance(model, CategoricalAAE):
        rebuilt = model.reconstruct(originals.to(device)).cpu()
    else:
        z = model.encode(originals.to(device))
        rebuilt = _decode(model, z, None if labels is None or model.labels_to != "decoder" else labels[:n])
    fig = new_figure(len(originals) * 0.6 + 0.8, 1.9)
    show_mosaic(fig.add_subplot(), tile(torch.cat([originals, rebuilt]), 2, len(originals), shape),
                "held-out images and their reconstructions", ["input", "output"])
    return finish(fig, path)
