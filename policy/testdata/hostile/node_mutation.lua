-- expect: ok
-- Changing node changes this evaluation's copy only.
policy "hostile" { every = "1s", act = function(node)
  node.system = nil
  node.seq = "mine"
end }
