"""Readings of unrolled graphs: backpropagation through time term by term (`bptt`, with the
state Jacobians in `jacobians`, over several models in `bptt_sweep`), which inputs each output
depends on (`connectivity`), what the gates did (`gates`), a trained model on a real input
(`trained`), the lecture's or a trained model as the commands choose it (`unrolled`), training
logs (`runlog`, `watch`), and stepping through a backward pass (`debugger`, `breakpoints`).

Import the submodule you need (`from tinygrad_rnn.analysis import connectivity`); this file
imports nothing, so that the package stays cheap and modules can move in without conflicts.
"""
