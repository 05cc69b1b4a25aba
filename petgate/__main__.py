from petgate.entry import run

run()
