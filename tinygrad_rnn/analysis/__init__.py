"""Readings of unrolled graphs: a trained model on a real input (`trained`), which inputs each
output depends on (`connectivity`), what the gates did (`gates`), and training logs (`runlog`).

Import the submodule you need (`from tinygrad_rnn.analysis import connectivity`); this file
imports nothing, so that the package stays cheap and modules can move in without conflicts.
"""
