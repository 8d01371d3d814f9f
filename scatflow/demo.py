"""`make demo`: 2D scattering of scikit-learn's bundled handwritten digits feeding a logistic
regression, against the same classifier on raw pixels; writes a PNG of coefficient maps.

The digits (1797 images of 8x8, ten classes) ship inside scikit-learn's wheel, so this runs
offline. A later workflow issue turns this into the distributed pipeline.
"""

import argparse
import time
from pathlib import Path

import numpy as np

from .numpy import Scattering2D


def classify(features, labels):
    """Mean 5-fold accuracy of a standardized logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, C=0.5))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    return cross_val_score(model, features, labels, cv=folds).mean()


def plot_coefficients(image, coefficients, scattering, path):
    """The digit, its order-0 map and the first-order maps of every orientation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    meta = scattering.meta()
    first = [c for c in range(len(meta["order"])) if meta["order"][c] == 1]
    panels = [("digit", image), ("order 0", coefficients[0])]
    panels += [(f"order 1, theta={int(meta['theta'][c, 0])}", coefficients[c]) for c in first]
    fig, axes = plt.subplots(2, (len(panels) + 1) // 2, figsize=(2.2 * ((len(panels) + 1) // 2), 4.6))
    for ax in axes.flat:
        ax.axis("off")
    for ax, (title, data) in zip(axes.flat, panels):
        ax.imshow(data, cmap="magma")
        ax.set_title(title, fontsize=9)
    fig.suptitle(f"Scattering2D(J={scattering.J}, L={scattering.L}) of a scikit-learn digit")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    from sklearn.datasets import load_digits

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="demo-output", help="folder for the PNG")
    args = parser.parse_args(argv)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)

    digits = load_digits()
    images, labels = digits.images, digits.target
    print(f"digits: {images.shape[0]} images of {images.shape[1]}x{images.shape[2]}, "
          f"{len(np.unique(labels))} classes (scikit-learn's bundled copy)")

    start = time.perf_counter()
    scattering = Scattering2D(J=1, shape=images.shape[1:], L=8)
    coefficients = scattering(images)
    elapsed = time.perf_counter() - start
    print(f"Scattering2D(J=1, L=8): {images.shape} -> {coefficients.shape} in {elapsed:.2f} s")

    raw = classify(images.reshape(len(images), -1), labels)
    scat = classify(coefficients.reshape(len(images), -1), labels)
    print(f"logistic regression, 5-fold accuracy: raw pixels {raw:.1%}, scattering {scat:.1%}")

    png = output / "digits_scattering2d.png"
    plot_coefficients(images[0], coefficients[0], scattering, png)
    print(f"coefficient maps: {png}")


if __name__ == "__main__":
    main()
