from plxgen.cli import main

raise SystemExit(main())
