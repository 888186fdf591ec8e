"""Files the adoption tests hand to real tools; none of them is a test module.

The Django app imports Django models, which need configured settings (``run.py`` configures
them in a process of its own), so the doctest collection of ``--doctest-modules`` must not
import them.
"""

collect_ignore = ["django_shop"]
