-- expect: error debug is not available
policy "hostile" { every = "1s", act = function(node) debug.sethook() end }
