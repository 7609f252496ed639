-- expect: error state can keep only
policy "hostile" { every = "1s", act = function(node) state.f = print end }
