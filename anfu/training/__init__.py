"""Training: data loading, model fitting and evaluation for `anfu train`."""
