"""The detector: find spurious tokens in a dataset before training, and remove them.

- :mod:`.families`: what the scan looks for (shapes, markup, gazetteers, unusual characters,
  words); ``register_family`` adds one;
- :mod:`.statistics`: counting a family's matches per label and the bounds that score them;
- :mod:`.scan`: the scan itself, its findings and the model-side attention-entropy signal;
- :mod:`.sanitize`: removing what the scan flagged, with a per-class report.
"""
