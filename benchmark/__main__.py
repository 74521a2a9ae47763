from benchmark.commands import main

raise SystemExit(main())
