-- expect: error load is not available
policy "hostile" { every = "1s", act = function(node) load("return 1")() end }
