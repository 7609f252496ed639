package uci

// helperEnv names the environment variable that makes the test binary act
// as a helper process (see runHelper).
const helperEnv = "NODEKEEPER_UCI_HELPER"

func runHelper(mode string, args []string) int { return 2 }
