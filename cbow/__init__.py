"""cbow: CBOW word embeddings in numpy, course-exact and fast."""
from cbow.embeddings import Embeddings
from cbow.model import Params, initialize_model, train_step
from cbow.vocab import Vocabulary

__version__ = "0.1.0"
__all__ = ["Embeddings", "Params", "Vocabulary", "initialize_model", "train_step", "__version__"]
