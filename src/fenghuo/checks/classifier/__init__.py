"""A small CPU classifier for offensive/unsafe text: hashed character n-grams, linear model.

Why not a transformer: the guard scores every message in microseconds on a CPU. Why not
scikit-learn's vectorisers at run time: ~100 µs of per-call overhead. Features are computed
with a handful of numpy operations on the normaliser's output (``features``), and the trained
model folds its feature weighting into one weight vector, so scoring is a gather and a sum.
"""
