"""The fast GPU path: what makes a paper run take seconds instead of minutes.

- :mod:`.stacked`: many LoRA runs of one model trained together over one frozen base (a sweep's
  groups; ``train`` on a GPU is a group of one);
- :mod:`.graphs`: a training step replayed as CUDA graphs;
- :mod:`.compiled`: each repeated layer of a large model compiled;
- :mod:`.predictor`: predictions by a bf16 copy of the merged model;
- :mod:`.tokens`: clean tokens cached once, injected rows spliced from them instead of tokenized again.

Nothing here changes what a run measures: ``bench/compare_paths.py`` checks the metrics against the
plain Trainer path.
"""
