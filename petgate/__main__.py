from petgate.cli import main

main()
