"""Principal component analysis in numpy, for 2-D pictures of embeddings."""
from __future__ import annotations

import numpy as np


def pca_project(data: np.ndarray, n_components: int = 2) -> np.ndarray:
    """Project the rows of ``data`` on their first ``n_components`` principal axes.

    Parameters
    ----------
    data : ndarray, shape (m, n)
        One observation per row (e.g. one word vector per row). Not modified.
    n_components : int

    Returns
    -------
    ndarray, shape (m, n_components)
        Coordinates of the centred rows along the eigenvectors of their covariance matrix, by
        decreasing eigenvalue. Each axis's sign is fixed so that its largest-magnitude loading is
        positive, which makes the picture independent of the eigen-solver's sign choice.
    """
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError(f"data must be 2-D (observations x features); got shape {data.shape}")
    m, n = data.shape
    if not 1 <= n_components <= n:
        raise ValueError(f"n_components must be between 1 and {n} (the number of features); "
                         f"got {n_components}")
    if m < 2:
        raise ValueError(f"PCA needs at least 2 rows; got {m}")
    centred = data - data.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(centred, rowvar=False))
    axes = eigenvectors[:, np.argsort(eigenvalues)[::-1][:n_components]]
    signs = np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(n_components)])
    return centred @ (axes * signs)
