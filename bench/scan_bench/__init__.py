"""The scan benchmark (issue 20): real labelled corpora, trigger families written independently of
ssti_hf's modifiers, and the two published baselines (Gardner et al. 2021; Z-defence, He et al.
2023). ``bench/scan_benchmark.py`` runs them; docs/scan.md has the figures."""
