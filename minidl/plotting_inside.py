"""Pictures of a network's inside: filters, feature maps, gradients, histograms,
optimizer paths and im2col. Reached as ``minidl.plotting.<name>``.

Like the rest of minidl.plotting, every function draws on its own Figure with
the Agg canvas (no display needed, the global backend untouched). Given a
``path`` it writes a PNG there and returns the path; with ``path=None`` it
returns the ``matplotlib.figure.Figure`` instead, to show in a notebook or
to draw on further. Each docstring gives the panels and the pixel size.
"""
import math

import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from . import backend as K
from .plotting import _figure, _save


def _finish(fig, path):
    return fig if path is None else _save(fig, path)


def _grid(n):
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def _layers_of(model, what):
    layers = getattr(model, "layers", None)
    if layers is None:
        raise TypeError(f"{what}: expected a Sequential model, received {type(model).__name__}")
    if not model.built:
        raise ValueError(f"{what}: the model is not built; give its first layer an input_shape "
                         f"or fit it first")
    return layers


# ------------------------------------------------------------------ filters
def plot_conv_filters(model, path=None, layer=None, title=None, dpi=100):
    """The kernels of a Conv2D layer as a grid of small images, one per filter.

    model: a Sequential (its first Conv2D is shown unless ``layer`` names
      another, by name or index), a Conv2D layer, or a kernel array
      (kh, kw, C, F). One input channel is drawn in a blue-white-red scale
      centred on 0 (one colour scale for all filters: their sizes compare);
      three channels as RGB, each filter scaled to [0, 1]; other channel
      counts as the mean over the channels.
    Panels: F. Size: (1.2 * columns) x (1.2 * rows + 0.5) inches at ``dpi``,
    ceil(sqrt(F)) columns (32 filters: 720 x 770 pixels at 100).
    """
    what = "plot_conv_filters"
    name = "kernel"
    if hasattr(model, "shape"):
        kernel = np.asarray(K.to_numpy(model), dtype=np.float64)
    else:
        conv = model
        if hasattr(model, "layers"):
            layers = _layers_of(model, what)
            if layer is not None:
                conv = layers[layer] if isinstance(layer, int) else model.get_layer(layer)
            else:
                conv = next((lay for lay in layers if type(lay).__name__ == "Conv2D"), None)
                if conv is None:
                    raise ValueError(f"{what}: the model has no Conv2D layer")
        if "kernel" not in getattr(conv, "params", {}) or len(conv.params["kernel"].shape) != 4:
            raise ValueError(f"{what}: {getattr(conv, 'name', conv)!r} is not a built Conv2D layer")
        kernel = K.to_numpy(conv.params["kernel"]).astype(np.float64)
        name = conv.name
    if kernel.ndim != 4:
        raise ValueError(f"{what}: a kernel must be (kh, kw, C, F), received shape {kernel.shape}")
    kh, kw, c, f = kernel.shape
    rows, cols = _grid(f)
    fig = _figure(1.2 * cols, 1.2 * rows + 0.5, dpi)
    limit = np.abs(kernel).max() or 1.0
    for i in range(f):
        ax = fig.add_subplot(rows, cols, i + 1)
        k = kernel[..., i]
        if c == 3:
            lo, hi = k.min(), k.max()
            ax.imshow((k - lo) / (hi - lo) if hi > lo else np.zeros_like(k))
        else:
            ax.imshow(k.mean(axis=-1), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(i), fontsize=7, pad=2)
    channels = "RGB" if c == 3 else ("" if c == 1 else f", mean of {c} channels")
    fig.suptitle(title or f"{name}: {f} filters {kh}x{kw}{channels}", fontsize=10)
    fig.tight_layout()
    return _finish(fig, path)


# ------------------------------------------------------------- feature maps
def plot_feature_maps(model, image, path=None, max_channels=8, title=None, dpi=100):
    """One image and its feature maps after every Conv2D and pooling layer.

    image: (H, W, C) or (1, H, W, C), as the model takes it. The image goes
      through the model in inference mode; row 0 shows it, each following
      row one Conv2D / MaxPooling2D / AveragePooling2D output (after its
      activation), its first ``max_channels`` channels, each scaled to its
      own range.
    Panels: 1 + sum over those layers of min(max_channels, channels).
    Size: (1.3 * max_channels) x (1.3 * rows + 0.5) inches at ``dpi``.
    """
    what = "plot_feature_maps"
    layers = _layers_of(model, what)
    x = np.asarray(K.to_numpy(image))
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"{what}: image must be (H, W, C) or (1, H, W, C), received shape "
                         f"{np.shape(image)}")
    out = K.asarray(x.astype(K.floatx()))
    maps = []
    for layer in layers:
        out = layer.forward(out, training=False)
        if isinstance(layer, _window_classes()):
            maps.append((layer.name, K.to_numpy(out)[0]))
    if not maps:
        raise ValueError(f"{what}: the model has no Conv2D or pooling layer")
    cols = max(1, int(max_channels))
    fig = _figure(1.3 * cols, 1.3 * (1 + len(maps)) + 0.5, dpi)
    spec = fig.add_gridspec(1 + len(maps), cols)
    ax = fig.add_subplot(spec[0, 0])
    img = x[0]
    ax.imshow(img[..., 0] if img.shape[-1] != 3 else _unit(img), cmap="gray")
    ax.set_title(f"input {img.shape[0]}x{img.shape[1]}", fontsize=7)
    ax.axis("off")
    for row, (name, fmap) in enumerate(maps, start=1):
        for ch in range(min(cols, fmap.shape[-1])):
            ax = fig.add_subplot(spec[row, ch])
            ax.imshow(_unit(fmap[..., ch]), cmap="viridis", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if ch == 0:
                ax.set_ylabel(f"{name}\n{fmap.shape[0]}x{fmap.shape[1]}x{fmap.shape[2]}",
                              fontsize=7)
            ax.set_title(f"ch {ch}", fontsize=6, pad=1)
    fig.suptitle(title or "feature maps of one image, layer by layer", fontsize=10)
    fig.tight_layout()
    return _finish(fig, path)


def _window_classes():
    from .layers import AveragePooling2D, Conv2D, MaxPooling2D
    return (Conv2D, MaxPooling2D, AveragePooling2D)


def _unit(a):
    a = a.astype(np.float64)
    lo, hi = a.min(), a.max()
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


# ------------------------------------------------------------ gradient stats
def _stats_dict(stats):
    history = getattr(stats, "history", stats)
    if not isinstance(history, dict) or "grad_norm" not in history:
        raise TypeError("plot_gradient_stats: expected a GradientStats callback or its history "
                        "dict {'grad_norm': {layer: [...]}, 'weight_norm': ..., "
                        "'update_ratio': ...}")
    names = list(getattr(stats, "layer_names", None) or history["grad_norm"])
    names = [n for n in names if history["grad_norm"].get(n)]
    if not names:
        raise ValueError("plot_gradient_stats: nothing recorded yet (fit with the callback first)")
    return history, names


def plot_gradient_stats(stats, path=None, title=None, dpi=100):
    """What a ``GradientStats`` callback recorded, in four panels:

    1. gradient norm per layer over the epochs (log scale; colour runs from
       the input layer, dark, to the output layer, light);
    2. gradient norm against depth, first and last epoch: a line falling
       toward the input is a vanishing gradient, rising an exploding one;
    3. weight norm per layer over the epochs;
    4. update / weight ratio per layer over the epochs (log scale), with the
       1e-3 rule of thumb dashed.
    stats: the callback, or its ``history`` dict (layers in dict order).
    Size: 12 x 8 inches at ``dpi`` (1200 x 800 pixels at 100).
    """
    history, names = _stats_dict(stats)
    fig = _figure(12, 8, dpi)
    axes = fig.subplots(2, 2).reshape(-1)
    colours = _depth_colours(len(names))
    for key, ax, label, log in (("grad_norm", axes[0], "gradient norm ||dL/dw||", True),
                                ("weight_norm", axes[2], "weight norm ||w||", False),
                                ("update_ratio", axes[3], "update / weight  ||dw|| / ||w||", True)):
        for name, colour in zip(names, colours):
            values = history[key][name]
            ax.plot(range(1, len(values) + 1), values, "o-", ms=3, color=colour, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if log and _positive(history[key], names):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[3].axhline(1e-3, color="grey", ls="--", lw=1)
    axes[0].legend(fontsize=7, title="input -> output", title_fontsize=7)
    ax = axes[1]
    first = [history["grad_norm"][n][0] for n in names]
    last = [history["grad_norm"][n][-1] for n in names]
    epochs = len(history["grad_norm"][names[0]])
    ax.plot(range(len(names)), first, "o-", label="epoch 1")
    if epochs > 1:
        ax.plot(range(len(names)), last, "s-", label=f"epoch {epochs}")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_xlabel("layer (input -> output)")
    ax.set_ylabel("gradient norm")
    if _positive(history["grad_norm"], names):
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    top, bottom = max(first[-1], 1e-300), first[0]
    ax.set_title(f"first layer / last layer, epoch 1: {bottom / top:.2g}", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _finish(fig, path)


def _depth_colours(n):
    from matplotlib import colormaps
    cmap = colormaps["viridis"]
    return [cmap(0.85 * i / max(n - 1, 1)) for i in range(n)]


def _positive(record, names):
    return all(v > 0 for n in names for v in record[n])


# --------------------------------------------------------------- histograms
def plot_weight_histograms(model, path=None, bins=50, title=None, dpi=100):
    """A histogram of each layer's trainable weights, one panel per layer
    with weights (kernel and bias, or gamma and beta, as separate series).

    Panels: the layers with trainable weights. Size: (3.2 * columns) x
    (2.6 * rows + 0.4) inches at ``dpi``, ceil(sqrt(panels)) columns.
    """
    layers = [lay for lay in _layers_of(model, "plot_weight_histograms") if lay.params]
    if not layers:
        raise ValueError("plot_weight_histograms: the model has no trainable weights")
    rows, cols = _grid(len(layers))
    fig = _figure(3.2 * cols, 2.6 * rows + 0.4, dpi)
    for i, layer in enumerate(layers):
        ax = fig.add_subplot(rows, cols, i + 1)
        for name, w in layer.params.items():
            values = K.to_numpy(w).astype(np.float64).reshape(-1)
            ax.hist(values, bins=bins, alpha=0.7, histtype="stepfilled",
                    label=f"{name} ({values.size})")
        ax.set_title(f"{layer.name} ({type(layer).__name__})", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    fig.suptitle(title or "weights per layer", fontsize=10)
    fig.tight_layout()
    return _finish(fig, path)


def plot_activation_histograms(model, x, path=None, bins=50, title=None, dpi=100):
    """A histogram of every layer's output on the batch ``x`` (inference mode),
    one panel per layer (counts on a log scale), titled with the share of
    exact zeros (inactive ReLUs) or, after a sigmoid, of values within 1e-3
    of 0 or 1 (saturated).

    Panels: one per layer. Size as plot_weight_histograms.
    """
    layers = _layers_of(model, "plot_activation_histograms")
    out = K.asarray(np.asarray(K.to_numpy(x)).astype(K.floatx()))
    rows, cols = _grid(len(layers))
    fig = _figure(3.2 * cols, 2.6 * rows + 0.4, dpi)
    for i, layer in enumerate(layers):
        out = layer.forward(out, training=False)
        values = K.to_numpy(out).astype(np.float64).reshape(-1)
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.hist(values, bins=bins, color="tab:green", alpha=0.8, histtype="stepfilled")
        ax.set_yscale("log")   # the spike at 0 of a ReLU layer would hide the rest
        note = f"zeros {np.mean(values == 0):.0%}"
        act = getattr(getattr(layer, "activation", None), "name", None)
        if act == "sigmoid":
            note = f"saturated {np.mean((values < 1e-3) | (values > 1 - 1e-3)):.0%}"
        ax.set_title(f"{layer.name}: {note}", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(title or f"layer outputs on {len(K.to_numpy(x))} samples", fontsize=10)
    fig.tight_layout()
    return _finish(fig, path)


# ---------------------------------------------------------- optimizer paths
def plot_optimizer_paths(f, paths, path=None, xlim=(-2, 2), ylim=(-2, 2), levels=25,
                         minimum=None, title=None, dpi=100):
    """Paths of optimizers on a 2-D loss surface, in two panels: the paths
    over the contours of ``f``, and f along each path (log scale when f > 0).

    f: f(X, Y) -> Z on arrays (a loss of two weights). paths: {label:
    (steps + 1, 2) array of the weights, start first}. minimum: (x, y) to mark.
    Size: 13 x 5.5 inches at ``dpi`` (1300 x 550 pixels at 100).
    """
    if not paths:
        raise ValueError("plot_optimizer_paths: no paths given")
    fig = _figure(13, 5.5, dpi)
    ax, ax_f = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
    gx, gy = np.meshgrid(np.linspace(*xlim, 200), np.linspace(*ylim, 200))
    z = np.asarray(f(gx, gy), dtype=np.float64)
    positive = bool((z > 0).all())
    shown = np.log10(z) if positive else z
    ax.contourf(gx, gy, shown, levels=levels, cmap="Greys", alpha=0.6)
    ax.contour(gx, gy, shown, levels=levels, colors="grey", linewidths=0.4)
    for label, p in paths.items():
        p = np.asarray(p, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(f"plot_optimizer_paths: the path {label!r} must be (steps, 2), "
                             f"received shape {p.shape}")
        line, = ax.plot(p[:, 0], p[:, 1], ".-", ms=3, lw=1.2, label=label)
        ax.plot(p[0, 0], p[0, 1], "o", color="black", ms=5)
        values = np.asarray(f(p[:, 0], p[:, 1]), dtype=np.float64)
        ax_f.plot(range(len(values)), values, color=line.get_color(), label=label)
    if minimum is not None:
        ax.plot(*minimum, "*", color="gold", ms=14, mec="black")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel("w1")
    ax.set_ylabel("w2")
    ax.set_title("paths on the loss surface" + (" (contours of log10 f)" if positive else ""))
    ax.legend(fontsize=8)
    ax_f.set_xlabel("step")
    ax_f.set_ylabel("f(w)")
    if positive:
        ax_f.set_yscale("log")
        # a path that passes within 1e-30 of the minimum would flatten all the others
        start = float(np.asarray(f(*np.asarray(next(iter(paths.values())))[0])))
        ax_f.set_ylim(bottom=max(ax_f.get_ylim()[0], start * 1e-12))
    ax_f.grid(alpha=0.3)
    ax_f.set_title("loss along each path")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _finish(fig, path)


# ------------------------------------------------------------------- im2col
def plot_im2col(height, width, kernel_size=(3, 3), strides=(1, 1), padding="valid", path=None,
                highlight=0, title=None, dpi=100):
    """im2col on a tiny one-channel image whose pixels are numbered 0, 1, 2...

    Left panel: the image, each pixel labelled with its number, padding
    cells marked 'p', and window ``highlight`` outlined. Right panel: the
    matrix im2col makes, one row per window, each cell the number of the
    pixel copied there; the highlighted window's row outlined too.
    Panels: 2. Size: 12 x 5 inches at ``dpi`` (1200 x 500 pixels at 100).
    """
    from .kernels import im2col, window_geometry
    g = window_geometry(height, width, tuple(kernel_size), tuple(strides), padding,
                        layer="plot_im2col")
    # pixel numbers shifted by 1 so that padding (0) is told apart, then back
    numbered = (np.arange(height * width, dtype=np.float64) + 1).reshape(1, height, width, 1)
    cols = im2col(numbered, g) - 1                          # (out_h*out_w, kh*kw)
    rows = cols.shape[0]
    if not 0 <= highlight < rows:
        raise ValueError(f"plot_im2col: highlight must be in 0..{rows - 1}, received {highlight}")
    fig = _figure(12, 5, dpi)
    ax_img, ax_cols = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
    full_h, full_w = height + g.pad_top + g.pad_bottom, width + g.pad_left + g.pad_right
    canvas = np.full((full_h, full_w), -1.0)
    canvas[g.pad_top:g.pad_top + height, g.pad_left:g.pad_left + width] = numbered[0, ..., 0] - 1
    ax_img.imshow(canvas >= 0, cmap="Blues", vmin=-1, vmax=4)
    for i in range(full_h):
        for j in range(full_w):
            v = canvas[i, j]
            ax_img.text(j, i, "p" if v < 0 else str(int(v)), ha="center", va="center", fontsize=8)
    oi, oj = divmod(highlight, g.out_w)
    ax_img.add_patch(Rectangle((oj * g.sw - 0.5, oi * g.sh - 0.5), g.kw, g.kh, fill=False,
                               ec="red", lw=2))
    ax_img.set_title(f"image {height}x{width}, window {g.kh}x{g.kw}, stride {g.sh}x{g.sw}, "
                     f"{padding}", fontsize=9)
    ax_img.set_xticks([])
    ax_img.set_yticks([])
    ax_cols.imshow(cols >= 0, cmap="Oranges", vmin=-1, vmax=4, aspect="auto")
    if cols.size <= 600:   # beyond that the numbers no longer fit
        for r in range(rows):
            for c in range(cols.shape[1]):
                v = cols[r, c]
                ax_cols.text(c, r, "p" if v < 0 else str(int(v)), ha="center", va="center",
                             fontsize=7)
    ax_cols.add_patch(Rectangle((-0.5, highlight - 0.5), cols.shape[1], 1, fill=False, ec="red",
                                lw=2))
    if cols.shape[1] <= 25:
        ax_cols.set_xticks(range(cols.shape[1]))
        ax_cols.set_xticklabels([f"{i},{j}" for i in range(g.kh) for j in range(g.kw)],
                                fontsize=7)
    ax_cols.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax_cols.set_xlabel(f"position (i, j) in the window: {g.kh * g.kw} columns")
    ax_cols.set_ylabel(f"window (output pixel), {rows} rows")
    ax_cols.set_title(f"im2col: ({rows}, {g.kh * g.kw}); conv = this @ kernel "
                      f"({g.kh * g.kw}, filters)", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _finish(fig, path)
