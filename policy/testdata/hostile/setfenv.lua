-- expect: error setfenv is not available
setfenv(1, {})
