"""Training and measuring: one run (``ssti-hf train``), a grid of them (``sweep``) and their report.

- :mod:`.arguments`: the command line's dataclasses, with the paper's defaults;
- :mod:`.models`: the model, its tokenizer and the adapter asked for;
- :mod:`.runs`: a run's config and splits, and writing its metrics.json, adapter and card;
- :mod:`.trainer`: one run, through :mod:`ssti_hf.engine.stacked` on a GPU or the Trainer;
- :mod:`.callback`: :class:`SSTICallback`, the Trainer callback that measures clean, spurious and
  triggered accuracy and attention entropy (the metrics in ``metrics/``);
- :mod:`.sft`: generative SSTI, a decoder completing a prompt with the label word (trl);
- :mod:`.sweep` and :mod:`.report`: grids of runs, then figures, tables and verdicts.
"""
