from purgesim.cli import main

main()
