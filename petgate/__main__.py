try:
    from petgate.entry import run
except KeyboardInterrupt:  # Ctrl-C before petgate's own handler is in
    import os
    import sys

    sys.stderr.write("error: interrupted\n")
    os._exit(130)
run()
