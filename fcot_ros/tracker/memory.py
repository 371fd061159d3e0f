"""Training-sample memory of the online target models, with DiMP's sample weights.

One slot schedule drives three feature banks (classifier 18, classifier 72, regression),
i.e. the authors' three memories, which are always written together. New samples get a
weight that grows by 1 / (1 - learning_rate) per stored sample (exponential forgetting), the
lowest-weighted non-initial slot is replaced when full, and the first-frame samples keep
at least ``init_min_weight`` of the total.
"""
import torch


class SampleMemory:
    """Fixed-capacity sample memory: feature banks, boxes (xywh crop pixels) and DiMP sample weights."""

    def __init__(self, capacity, bank_shapes, init_min_weight, dtype=torch.float32, device="cpu"):
        """bank_shapes: {name: (C, H, W)}; each bank is a (capacity, C, H, W) tensor."""
        self.capacity = capacity
        self.banks = {k: torch.zeros((capacity,) + tuple(s), dtype=dtype, device=device)
                      for k, s in bank_shapes.items()}
        self.boxes = torch.zeros(capacity, 4, dtype=dtype, device=device)  # xywh crop px
        self.weights = torch.zeros(capacity, dtype=torch.float64)
        self.init_min_weight = init_min_weight
        self.num_stored = 0
        self.num_init = 0
        self._previous = None

    def write_initial(self, start, features):
        """Write first-frame samples start, start + 1, ... (features {name: (n, C, H, W)}), e.g.
        chunk by chunk as the network produces them; then set_initial."""
        n = next(iter(features.values())).shape[0]
        if start + n > self.capacity:
            raise ValueError(f"{start + n} initial samples do not fit a memory of {self.capacity}")
        for k, bank in self.banks.items():
            bank[start:start + n] = features[k]

    def set_initial(self, boxes):
        """The first len(boxes) slots hold the first-frame samples (written with write_initial),
        with boxes (N, 4) and uniform weights; forget everything else."""
        n = boxes.shape[0]
        if n > self.capacity:
            raise ValueError(f"{n} initial samples do not fit a memory of {self.capacity}")
        self.boxes[:n] = boxes
        self.weights.zero_()
        self.weights[:n] = 1.0 / n
        self.num_stored = self.num_init = n
        self._previous = None

    def _replace_index(self, learning_rate):
        w = self.weights
        if self.num_stored < self.capacity:
            index = self.num_stored
        else:
            start = self.num_init if self.init_min_weight > 0 else 0
            index = start + int(torch.argmin(w[start:]))
        if self._previous is None:
            w /= 1.0 - learning_rate
            w[index] = learning_rate
        else:
            w[index] = w[self._previous] / (1.0 - learning_rate)
        w /= w.sum()
        if self.init_min_weight > 0 and w[:self.num_init].sum() < self.init_min_weight:
            w /= self.init_min_weight + w[self.num_init:].sum()
            w[:self.num_init] = self.init_min_weight / self.num_init
        return index

    def add(self, features, box, learning_rate):
        """Write one sample (features {name: (C, H, W)}, box (4,)) and update the weights."""
        index = self._replace_index(learning_rate)
        for k, bank in self.banks.items():
            bank[index] = features[k]
        self.boxes[index] = box
        self._previous = index
        self.num_stored = min(self.num_stored + 1, self.capacity)
        return index

    def view(self, name):
        """Stored samples of one bank as the optimizers expect: (N, 1, C, H, W)."""
        return self.banks[name][:self.num_stored].unsqueeze(1)

    def stored_boxes(self):
        """Boxes of the stored samples, (N, 1, 4) xywh in crop pixels."""
        return self.boxes[:self.num_stored].unsqueeze(1)

    def sample_weights(self):
        """(N, 1) float weights summing to 1."""
        w = self.weights[:self.num_stored]
        return (w / w.sum()).to(device=self.boxes.device, dtype=self.boxes.dtype).unsqueeze(1)
