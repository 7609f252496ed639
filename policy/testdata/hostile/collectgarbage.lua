-- expect: error collectgarbage is not available
policy "hostile" { every = "1s", act = function(node) collectgarbage("collect") end }
