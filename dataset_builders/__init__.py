"""``datasets`` builders for SSTI configs (installed as ``ssti_hf.dataset_builders``)."""
