-- expect: cpu
-- The builtin matcher backtracks for minutes and never looks at the deadline.
policy "hostile" { every = "1s", act = function(node)
  return string.find(("a"):rep(120), ".-.-.-.-.-b$")
end }
