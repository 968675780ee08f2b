"""The training loop (:mod:`~cbow.training.loop`), its schedule, stopping and results, the run
folder it writes (:mod:`~cbow.training.run`) and continued training
(:mod:`~cbow.training.continuation`)."""
