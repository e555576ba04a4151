from kubelocal.cli import main

raise SystemExit(main())
