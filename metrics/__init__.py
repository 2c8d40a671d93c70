"""``evaluate`` metrics for SSTI (installed as ``ssti_hf.metrics``; load with
``evaluate.load(ssti_hf.metric_path(name))``)."""
