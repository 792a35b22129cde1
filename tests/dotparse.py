"""A small reader for the DOT text viz.to_dot writes, for tests: nodes, edges, clusters.

It knows only the subset to_dot uses (one statement per line, quoted or HTML values), so a
test can check the picture's structure without trusting viz's own data structures.
"""

import re

_NODE = re.compile(r"^\s*(\w+) \[(.*)\];$")
_EDGE = re.compile(r"^\s*(\w+) -> (\w+) \[(.*)\];$")
_CLUSTER = re.compile(r"^\s*subgraph (cluster_\w+) \{$")


def parse_attrs(text):
    """'a="x", b=<<b>y</b>>, c=1.50' -> {'a': 'x', 'b': '<b>y</b>', 'c': '1.50'}."""
    attrs, i = {}, 0
    while i < len(text):
        eq = text.index("=", i)
        key = text[i:eq].strip()
        j = eq + 1
        if text[j] == '"':
            k = j + 1
            while text[k] != '"':
                k += 2 if text[k] == "\\" else 1
            value, i = text[j + 1 : k].replace('\\"', '"'), k + 1
        elif text[j] == "<":
            depth, k = 0, j
            while True:
                depth += {"<": 1, ">": -1}.get(text[k], 0)
                k += 1
                if depth == 0:
                    break
            value, i = text[j + 1 : k - 1], k
        else:
            k = text.find(",", j)
            k = len(text) if k < 0 else k
            value, i = text[j:k].strip(), k
        attrs[key] = value
        i = text.find(",", i)
        i = len(text) if i < 0 else i + 1
    return attrs


class Dot:
    """`nodes[id]` = attrs, `cluster_of[id]` = the innermost clusters' names (outer first),
    `edges` = list of (tail, head, attrs) in data-flow direction (dir=back undone),
    `clusters` = names in order."""

    def __init__(self, text):
        self.nodes, self.cluster_of, self.edges, self.clusters = {}, {}, [], []
        stack = []
        for line in text.splitlines():
            m = _CLUSTER.match(line)
            if m:
                stack.append(m.group(1))
                self.clusters.append(m.group(1))
                continue
            if line.strip() == "}":
                if stack:
                    stack.pop()
                continue
            m = _EDGE.match(line)
            if m:
                tail, head, attrs = m.group(1), m.group(2), parse_attrs(m.group(3))
                if attrs.get("dir") == "back":
                    tail, head = head, tail
                self.edges.append((tail, head, attrs))
                continue
            m = _NODE.match(line)
            if m and m.group(1) not in ("graph", "node", "edge"):
                self.nodes[m.group(1)] = parse_attrs(m.group(2))
                self.cluster_of[m.group(1)] = list(stack)

    def visible_edges(self):
        return [(a, b, attrs) for a, b, attrs in self.edges if attrs.get("style") != "invis"]

    def label_text(self, node_id):
        """The node's label without HTML tags."""
        return re.sub(r"<[^>]*>", " ", self.nodes[node_id].get("label", ""))

    def find(self, name):
        """Ids of tensor boxes whose first label line is `name`."""
        found = []
        for node_id, attrs in self.nodes.items():
            label = attrs.get("label", "")
            m = re.match(r"<b>(.*?)</b>", label)
            if m and m.group(1) == name:
                found.append(node_id)
        return found
