-- expect: error loadstring is not available
policy "hostile" { every = "1s", act = function(node) loadstring("os.exit()")() end }
