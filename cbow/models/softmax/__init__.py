"""The course's CBOW: a ReLU encoder and a full softmax over the vocabulary."""
