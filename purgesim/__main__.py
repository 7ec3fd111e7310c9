from purgesim.entry import main

main()
