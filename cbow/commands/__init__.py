"""The subcommands of ``cbow``: each module has ``HELP``, ``add_arguments(parser)`` and ``run(args)``.

Modules import their heavy dependencies inside ``run``, so ``cbow --help`` stays fast.
"""
