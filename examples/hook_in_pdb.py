"""Pause inside backward() when one node's gradient is complete:  python examples/hook_in_pdb.py

`debugger.break_at(node)` registers a hook that calls breakpoint(). In pdb, `grad` is the
node's complete gradient and `tensor` the node; `up` is the engine's walk, where `node`
is the same tensor and `grads` holds the partial gradients of the nodes still waiting.
"""

from tinygrad_rnn import lecture
from tinygrad_rnn.analysis import debugger

run = lecture.build("lstm", steps=3, hidden=2, seed=0)
c_0 = run.cell_states()[0]
handle = debugger.break_at(c_0)  # pause when dE/dc_0 is complete
run.loss.backward()
handle.remove()
print("dE/dc_0 =", c_0.grad.round(5).tolist())
