-- expect: error os.exit is not available
os.exit(1)
