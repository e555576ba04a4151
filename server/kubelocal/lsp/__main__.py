"""`python -m kubelocal.lsp`: the same as the `kubelocal-lsp` script."""

from kubelocal import lsp

raise SystemExit(lsp.main())
