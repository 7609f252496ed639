-- expect: error os.execute is not available
policy "hostile" { every = "1s", act = function(node) os.execute("reboot") end }
