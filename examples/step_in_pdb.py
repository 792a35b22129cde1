"""Step through a backward pass in pdb:  python examples/step_in_pdb.py

The loop pauses at each breakpoint spec: here where the walk reaches h_1, then where it
enters time step 0. At each pause `step` is the step that just ran (pdb has a `step`
command, so inspect it with `p step`, `p step.grad`, `pp step.node.edge_grads()`).
"""

from tinygrad_rnn import backward_steps, lecture

run = lecture.build("rnn", steps=4, hidden=3, seed=0)  # the lecture's RNN, loss E_3
for step in backward_steps(run.loss, stop=["h_1", "t=0"]):
    print(step)  # step 13/27  tanh 'h_1' (t=1, layer 0)  |grad|=...  -> 'a_1' ...
    breakpoint()
print("W_hh grad:", run.model.weight_hh_l0.grad.round(4).tolist())
