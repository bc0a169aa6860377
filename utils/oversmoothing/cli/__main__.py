"""``python -m oversmoothing.cli``, the ``oversmoothing`` command (also what ``torchrun -m oversmoothing.cli`` runs)."""

from . import main

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
