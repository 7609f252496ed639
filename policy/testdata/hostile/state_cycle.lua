-- expect: error refers to itself
policy "hostile" { every = "1s", act = function(node) state.me = state end }
