from facefile.ui.cli import main

main()
